import { useCallback, useEffect, useRef, useState } from "react";
import { endpoints, type Conversation } from "../../api";
import { showNotification, tabHidden } from "../../browser";
import { useI18n } from "../../i18n";
import { useLiveEvents } from "../../live";

export function contactLabel(c: Pick<Conversation, "contact">): string {
  return c.contact.name || c.contact.phone || c.contact.wa_id || "—";
}

/**
 * Unread total for the Inbox nav item, summed over the open conversations list.
 * Also shows a browser notification for new inbound messages while the tab is hidden
 * (only when the user already granted permission).
 */
export function InboxNavBadge() {
  const { t } = useI18n();
  const [total, setTotal] = useState(0);
  const previous = useRef<Map<number, number> | null>(null);
  const seq = useRef(0);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const page = await endpoints.conversations({ view: "all", status: "open" });
      if (mine !== seq.current) return;
      const results = page?.results ?? [];
      const counts = new Map(results.map((c) => [c.id, c.unread_count || 0]));
      if (previous.current && tabHidden()) {
        for (const c of results) {
          if ((c.unread_count || 0) > (previous.current.get(c.id) ?? 0)) {
            showNotification(t("inbox.notifyTitle", { name: contactLabel(c) }), c.last_message_preview || "", `conversation-${c.id}`);
          }
        }
      }
      previous.current = counts;
      setTotal(results.reduce((sum, c) => sum + (c.unread_count || 0), 0));
    } catch {
      /* badge is best-effort */
    }
  }, [t]);

  useEffect(() => {
    void load();
  }, [load]);
  useLiveEvents(() => void load());

  if (total <= 0) return null;
  return (
    <span className="nav-badge" data-testid="nav-inbox-badge" aria-label={t("inbox.unreadTotal", { count: total })}>
      {total > 99 ? "99+" : total}
    </span>
  );
}
