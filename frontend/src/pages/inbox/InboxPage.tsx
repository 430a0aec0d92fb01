import { useCallback, useEffect, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { endpoints, type Conversation, type InboxView, type Label, type Member, type QuickReply, type StatusFilter, type WaTemplate } from "../../api";
import { notificationPermission, requestNotificationPermission, type NotifyPermission } from "../../browser";
import { Alert } from "../../components/Alert";
import { EmptyState } from "../../components/EmptyState";
import { errorMessage } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { Spinner } from "../../components/Spinner";
import { useI18n, type TKey } from "../../i18n";
import { remote, useLiveEvents } from "../../live";
import { useFormatters } from "../../session";
import { ContactCard } from "./ContactCard";
import { contactLabel } from "./InboxNavBadge";
import { Thread } from "./Thread";

const VIEWS: { value: InboxView; key: TKey }[] = [
  { value: "all", key: "inbox.view.all" },
  { value: "mine", key: "inbox.view.mine" },
  { value: "unassigned", key: "inbox.view.unassigned" },
];
const STATUSES: { value: StatusFilter; key: TKey }[] = [
  { value: "open", key: "inbox.status.open" },
  { value: "closed", key: "inbox.status.closed" },
];

/** Replaces the first page, keeping older rows loaded with "load more" that the new page does not cover. */
export function mergeConversations(old: Conversation[] | null, page: Conversation[], hasNext: boolean): Conversation[] {
  if (!old || !hasNext || page.length === 0) return page;
  const ids = new Set(page.map((c) => c.id));
  const oldest = page[page.length - 1].last_message_at ?? "";
  return [...page, ...old.filter((c) => !ids.has(c.id) && (c.last_message_at ?? "") < oldest)];
}

function ConversationRow({ conversation, selected, onSelect }: { conversation: Conversation; selected: boolean; onSelect: () => void }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const unread = conversation.unread_count || 0;
  return (
    <li>
      <button
        type="button"
        className={`conv-row${selected ? " selected" : ""}${unread ? " unread" : ""}`}
        data-testid={`conversation-row-${conversation.id}`}
        data-unread={unread}
        aria-current={selected ? "true" : undefined}
        onClick={onSelect}
      >
        <span className="avatar" aria-hidden="true">
          {contactLabel(conversation).charAt(0).toUpperCase()}
        </span>
        <span className="conv-main">
          <span className="conv-top">
            <span className="conv-name">{contactLabel(conversation)}</span>
            <time className="conv-time" dateTime={conversation.last_message_at ?? undefined} title={fmt.dateTime(conversation.last_message_at)}>
              {fmt.relative(conversation.last_message_at)}
            </time>
          </span>
          <span className="conv-bottom">
            <span className="conv-preview">{conversation.last_message_preview}</span>
            {unread ? (
              <span className="unread-badge" aria-label={t("inbox.unreadCount", { count: unread })}>
                {unread > 99 ? "99+" : unread}
              </span>
            ) : null}
          </span>
          <span className="conv-assignee">
            <Icon name="user" className="icon icon-xs" />
            {conversation.assignee_name || t("inbox.unassigned")}
            {conversation.status === "closed" ? <span className="badge badge-closed">{t("inbox.status.closed")}</span> : null}
          </span>
        </span>
      </button>
    </li>
  );
}

export function InboxPage() {
  const { t } = useI18n();
  const navigate = useNavigate();
  const params = useParams();
  const selectedId = params.conversationId && /^\d+$/.test(params.conversationId) ? Number(params.conversationId) : null;

  const [view, setView] = useState<InboxView>("all");
  const [status, setStatus] = useState<StatusFilter>("open");
  const [search, setSearch] = useState("");
  const [label, setLabel] = useState<number | null>(null);
  const [labels, setLabels] = useState<Label[]>([]);

  useEffect(() => {
    endpoints.labels().then(setLabels, () => setLabels([]));
  }, []);
  const [q, setQ] = useState("");
  const [conversations, setConversations] = useState<Conversation[] | null>(null);
  const [nextBefore, setNextBefore] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [current, setCurrent] = useState<Conversation | null>(null);
  const [showContact, setShowContact] = useState(false);
  const [ordersVersion, setOrdersVersion] = useState(0);
  const [members, setMembers] = useState<Member[]>([]);
  const [templates, setTemplates] = useState<WaTemplate[] | null>(null);
  const [quickReplies, setQuickReplies] = useState<QuickReply[]>([]);
  const [permission, setPermission] = useState<NotifyPermission>(() => notificationPermission());
  const seq = useRef(0);
  const conversationsRef = useRef<Conversation[] | null>(null);
  conversationsRef.current = conversations;

  // Debounce the search box.
  useEffect(() => {
    const timer = window.setTimeout(() => setQ(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const loadList = useCallback(
    async (reset: boolean) => {
      const mine = ++seq.current;
      if (reset) setConversations(null);
      try {
        const page = await endpoints.conversations({ view, status, q, label });
        if (mine !== seq.current) return;
        const results = page?.results ?? [];
        setConversations((old) => (reset ? results : mergeConversations(old, results, !!page?.next_before)));
        if (reset) setNextBefore(page?.next_before ?? null);
        setListError(null);
      } catch (err) {
        if (mine !== seq.current) return;
        if (reset) setConversations([]);
        setListError(errorMessage(err, t));
      }
    },
    [view, status, q, label, t],
  );

  useEffect(() => {
    void loadList(true);
  }, [loadList]);

  useLiveEvents((events) => {
    if (remote(events).length) void loadList(false);
  });

  // Reference data for the thread: team members (assign), templates, quick replies.
  useEffect(() => {
    let cancelled = false;
    endpoints.members().then((m) => !cancelled && setMembers(m), () => {});
    endpoints.templates().then(
      (list) => !cancelled && setTemplates(list),
      () => !cancelled && setTemplates([]),
    );
    endpoints.quickReplies().then((list) => !cancelled && setQuickReplies(list), () => {});
    return () => {
      cancelled = true;
    };
  }, []);

  useEffect(() => {
    setShowContact(false);
    setCurrent((c) => (c && c.id === selectedId ? c : (conversationsRef.current?.find((x) => x.id === selectedId) ?? null)));
  }, [selectedId]);

  async function loadMore() {
    if (!nextBefore) return;
    setLoadingMore(true);
    const mine = seq.current;
    try {
      const page = await endpoints.conversations({ view, status, q, label, before: nextBefore });
      if (mine !== seq.current) return;
      setConversations((old) => {
        const ids = new Set((old ?? []).map((c) => c.id));
        return [...(old ?? []), ...(page?.results ?? []).filter((c) => !ids.has(c.id))];
      });
      setNextBefore(page?.next_before ?? null);
    } catch (err) {
      setListError(errorMessage(err, t));
    } finally {
      setLoadingMore(false);
    }
  }

  const onConversation = useCallback((c: Conversation) => {
    setCurrent(c);
    setConversations((list) => (list ? list.map((x) => (x.id === c.id ? { ...x, ...c } : x)) : list));
  }, []);

  const pane = selectedId === null ? "list" : showContact ? "contact" : "thread";

  return (
    <section className={`page inbox-page inbox pane-${pane}`}>
      <header className="page-header inbox-header">
        <h1>{t("nav.inbox")}</h1>
        {permission === "default" ? (
          <button
            type="button"
            className="btn btn-ghost btn-sm"
            data-testid="notifications-enable"
            onClick={async () => setPermission(await requestNotificationPermission())}
          >
            <Icon name="bell" />
            {t("inbox.enableNotifications")}
          </button>
        ) : null}
      </header>
      <div className="inbox-panes">
        <div className="inbox-list">
          <div className="list-controls">
            <div className="segmented" role="group" aria-label={t("inbox.filter")}>
              {VIEWS.map((v) => (
                <button
                  key={v.value}
                  type="button"
                  className={`seg${view === v.value ? " active" : ""}`}
                  aria-pressed={view === v.value}
                  data-testid={`conversation-filter-${v.value}`}
                  onClick={() => setView(v.value)}
                >
                  {t(v.key)}
                </button>
              ))}
            </div>
            <div className="list-controls-row">
              <div className="search-box">
                <Icon name="search" className="icon icon-xs" />
                <input
                  type="search"
                  aria-label={t("inbox.search")}
                  placeholder={t("inbox.search")}
                  value={search}
                  onChange={(e) => setSearch(e.target.value)}
                  data-testid="conversation-search"
                />
              </div>
              {labels.length ? (
                <select
                  aria-label={t("inbox.labelFilter")}
                  value={label ?? ""}
                  onChange={(e) => setLabel(e.target.value ? Number(e.target.value) : null)}
                  data-testid="conversation-filter-label"
                >
                  <option value="">{t("inbox.allLabels")}</option>
                  {labels.map((l) => (
                    <option key={l.id} value={l.id}>
                      {l.name}
                    </option>
                  ))}
                </select>
              ) : null}
              <div className="segmented segmented-sm" role="group" aria-label={t("inbox.statusFilter")}>
                {STATUSES.map((s) => (
                  <button
                    key={s.value}
                    type="button"
                    className={`seg${status === s.value ? " active" : ""}`}
                    aria-pressed={status === s.value}
                    data-testid={`conversation-status-${s.value}`}
                    onClick={() => setStatus(s.value)}
                  >
                    {t(s.key)}
                  </button>
                ))}
              </div>
            </div>
          </div>
          {listError ? (
            <Alert kind="error" testId="conversation-error">
              {listError}
            </Alert>
          ) : null}
          {conversations === null ? (
            <Spinner />
          ) : conversations.length === 0 ? (
            <EmptyState icon={<Icon name="inbox" className="icon icon-xl" />} title={q ? t("inbox.noResults") : t("inbox.empty")}>
              {q ? t("inbox.noResultsText") : t("inbox.emptyText")}
            </EmptyState>
          ) : (
            <>
              <ul className="conversation-list" data-testid="conversation-list">
                {conversations.map((c) => (
                  <ConversationRow key={c.id} conversation={c} selected={c.id === selectedId} onSelect={() => navigate(`/inbox/${c.id}`)} />
                ))}
              </ul>
              {nextBefore ? (
                <div className="center list-more">
                  <button type="button" className="btn btn-ghost btn-sm" disabled={loadingMore} data-testid="conversation-load-more" onClick={() => void loadMore()}>
                    {t("inbox.loadMore")}
                  </button>
                </div>
              ) : null}
            </>
          )}
        </div>
        <div className="inbox-thread">
          {selectedId === null ? (
            <EmptyState icon={<Icon name="inbox" className="icon icon-xl" />} title={t("inbox.noSelection")}>
              {t("inbox.noSelectionText")}
            </EmptyState>
          ) : (
            <Thread
              key={selectedId}
              conversationId={selectedId}
              members={members}
              templates={templates}
              quickReplies={quickReplies}
              onConversation={onConversation}
              onBack={() => navigate("/inbox")}
              onShowContact={() => setShowContact((s) => !s)}
              onOrderCreated={() => setOrdersVersion((v) => v + 1)}
            />
          )}
        </div>
        {current && current.id === selectedId ? (
          <div className="inbox-contact">
            <ContactCard conversation={current} ordersVersion={ordersVersion} onBack={() => setShowContact(false)} />
          </div>
        ) : null}
      </div>
    </section>
  );
}
