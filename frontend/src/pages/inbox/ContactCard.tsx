import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { endpoints, type Conversation, type Order } from "../../api";
import { Icon } from "../../components/Icon";
import { formatMoney } from "../../format";
import { OrderStatusBadge } from "../orders/OrderStatusBadge";
import { useI18n } from "../../i18n";
import { useFormatters } from "../../session";
import { contactLabel } from "./InboxNavBadge";

/** The contact's latest orders (refetched when `version` changes, e.g. after "Create order"). */
function RecentOrders({ contactId, version }: { contactId: number; version: number }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const [orders, setOrders] = useState<Order[] | null>(null);
  useEffect(() => {
    let cancelled = false;
    endpoints.orders({ contact_id: contactId }).then(
      (page) => !cancelled && setOrders(page?.results ?? []),
      () => !cancelled && setOrders([]),
    );
    return () => {
      cancelled = true;
    };
  }, [contactId, version]);
  if (orders === null) return null;
  return (
    <div className="contact-orders">
      <h3 className="contact-section">{t("inbox.recentOrders")}</h3>
      {orders.length === 0 ? (
        <p className="muted small">{t("orders.emptyContact")}</p>
      ) : (
        <ul className="mini-list" data-testid="inbox-contact-orders">
          {orders.slice(0, 5).map((o) => (
            <li key={o.id} data-testid={`inbox-order-${o.id}`}>
              <Link to={`/orders/${o.id}`}>{o.number || `#${o.id}`}</Link>
              <OrderStatusBadge status={o.status} />
              <span className="mini-right">{formatMoney(o.total)}</span>
              <span className="muted small">{fmt.date(o.created_at)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ContactCard({ conversation, onBack, ordersVersion = 0 }: { conversation: Conversation; onBack: () => void; ordersVersion?: number }) {
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
      <Link to={`/contacts/${c.id}`} className="btn btn-secondary btn-sm btn-block contact-page-link" data-testid="inbox-contact-link">
        {t("inbox.fullContact")}
      </Link>
      <RecentOrders contactId={c.id} version={ordersVersion} />
    </aside>
  );
}
