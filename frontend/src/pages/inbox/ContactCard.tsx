import type { Conversation } from "../../api";
import { Icon } from "../../components/Icon";
import { useI18n } from "../../i18n";
import { useFormatters } from "../../session";
import { contactLabel } from "./InboxNavBadge";

export function ContactCard({ conversation, onBack }: { conversation: Conversation; onBack: () => void }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const c = conversation.contact;
  const dash = <span className="muted">—</span>;
  return (
    <aside className="contact-card" data-testid="contact-card" aria-label={t("inbox.customer")}>
      <div className="contact-head">
        <button type="button" className="btn-icon contact-back" aria-label={t("inbox.back")} data-testid="contact-back" onClick={onBack}>
          <Icon name="back" />
        </button>
        <div className="avatar avatar-lg" aria-hidden="true">
          {contactLabel(conversation).charAt(0).toUpperCase()}
        </div>
        <h2 data-testid="contact-name">{contactLabel(conversation)}</h2>
      </div>
      <dl className="contact-fields">
        <dt>{t("inbox.phone")}</dt>
        <dd data-testid="contact-phone">{c.phone || c.wa_id || dash}</dd>
        <dt>{t("inbox.email")}</dt>
        <dd data-testid="contact-email">{c.email || dash}</dd>
        <dt>{t("inbox.source")}</dt>
        <dd data-testid="contact-source">{c.source || dash}</dd>
        <dt>{t("inbox.marketing")}</dt>
        <dd data-testid="contact-opt-out">
          {c.marketing_opt_out ? <span className="badge badge-danger">{t("inbox.optedOutShort")}</span> : <span className="badge badge-ok">{t("inbox.subscribed")}</span>}
        </dd>
        <dt>{t("inbox.since")}</dt>
        <dd data-testid="contact-since">{fmt.date(c.created_at)}</dd>
        <dt>{t("inbox.assignee")}</dt>
        <dd>{conversation.assignee_name || t("inbox.unassigned")}</dd>
      </dl>
    </aside>
  );
}
