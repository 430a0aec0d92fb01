import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { endpoints, type Order, type OrderStatus, type PaymentStatus } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { formatMoney } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters } from "../../session";
import { PAYMENT_METHODS, paymentKey } from "./OrderForm";
import { OrderStatusBadge, statusKey } from "./OrderStatusBadge";

const PAYMENT_STATUSES: PaymentStatus[] = ["unpaid", "paid", "refunded"];

export function OrderDetailPage() {
  const { t } = useI18n();
  const fmt = useFormatters();
  const params = useParams();
  const orderId = Number(params.orderId);
  const [order, setOrder] = useState<Order | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [statusError, setStatusError] = useState<string | null>(null);
  const [notification, setNotification] = useState<Order["notification"]>(null);
  const [notify, setNotify] = useState(true);
  const [tracking, setTracking] = useState("");
  const [busy, setBusy] = useState(false);
  const [edit, setEdit] = useState({ notes: "", payment_method: "", payment_status: "unpaid" as PaymentStatus, tracking_number: "" });
  const [saveMsg, setSaveMsg] = useState<{ kind: "success" | "error"; text: string } | null>(null);

  function apply(o: Order) {
    setOrder(o);
    setTracking(o.tracking_number ?? "");
    setEdit({ notes: o.notes ?? "", payment_method: o.payment_method ?? "", payment_status: o.payment_status, tracking_number: o.tracking_number ?? "" });
  }

  useEffect(() => {
    let cancelled = false;
    endpoints.order(orderId).then(
      (o) => !cancelled && apply(o),
      (err) => !cancelled && setLoadError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
    };
  }, [orderId, t]);

  async function changeStatus(status: OrderStatus) {
    if (!order) return;
    setBusy(true);
    setStatusError(null);
    setNotification(null);
    try {
      const payload: { status: OrderStatus; tracking_number?: string; notify: boolean } = { status, notify };
      if (status === "shipped" && tracking.trim()) payload.tracking_number = tracking.trim();
      const updated = await endpoints.setOrderStatus(order.id, payload);
      apply(updated);
      setNotification(updated.notification ?? null);
    } catch (err) {
      setStatusError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!order) return;
    setBusy(true);
    setSaveMsg(null);
    try {
      apply(await endpoints.updateOrder(order.id, edit));
      setSaveMsg({ kind: "success", text: t("orders.saved") });
    } catch (err) {
      setSaveMsg({ kind: "error", text: errorMessage(err, t) });
    } finally {
      setBusy(false);
    }
  }

  if (loadError) {
    return (
      <Alert kind="error" testId="order-load-error">
        {loadError}
      </Alert>
    );
  }
  if (!order) return <Spinner />;

  const notificationOk = notification && !notification.error_reason && notification.status !== "failed";
  const pmKey = paymentKey(order.payment_method);

  return (
    <div className="stack" data-testid="order-detail">
      <Link to="/orders" className="back-link">
        ← {t("orders.tab")}
      </Link>
      <div className="card">
        <div className="card-head">
          <h2 data-testid="order-number">
            {t("orders.title", { number: order.number || `#${order.id}` })} <OrderStatusBadge status={order.status} />
          </h2>
          <span className="muted small">{fmt.dateTime(order.created_at)}</span>
        </div>
        <dl className="kv">
          <dt>{t("orders.contact")}</dt>
          <dd>
            <Link to={`/contacts/${order.contact.id}`} data-testid="order-contact-link">
              {order.contact.name || order.contact.phone}
            </Link>
            {order.contact.name && order.contact.phone ? <span className="muted"> · {order.contact.phone}</span> : null}
          </dd>
          <dt>{t("orders.channel")}</dt>
          <dd>{t(`orders.channel.${order.channel}` as TKey)}</dd>
          <dt>{t("orders.paymentMethod")}</dt>
          <dd>{pmKey ? t(pmKey) : order.payment_method || "—"}</dd>
          <dt>{t("orders.paymentStatus")}</dt>
          <dd data-testid="order-payment-status">{t(`orders.paymentStatus.${order.payment_status}` as TKey)}</dd>
          {order.tracking_number ? (
            <>
              <dt>{t("orders.tracking")}</dt>
              <dd data-testid="order-tracking-number">{order.tracking_number}</dd>
            </>
          ) : null}
          {order.conversation_id ? (
            <>
              <dt>{t("nav.inbox")}</dt>
              <dd>
                <Link to={`/inbox/${order.conversation_id}`}>{t("contacts.openChat")}</Link>
              </dd>
            </>
          ) : null}
        </dl>
        <div className="table-wrap">
          <table className="table" data-testid="order-items">
            <thead>
              <tr>
                <th>{t("orders.item")}</th>
                <th>{t("orders.qty")}</th>
                <th>{t("orders.unitPrice")}</th>
                <th>{t("orders.lineTotal")}</th>
              </tr>
            </thead>
            <tbody>
              {order.items.map((item) => (
                <tr key={item.id}>
                  <td data-label={t("orders.item")}>{item.description}</td>
                  <td data-label={t("orders.qty")}>{item.quantity}</td>
                  <td data-label={t("orders.unitPrice")}>{formatMoney(item.unit_price)}</td>
                  <td data-label={t("orders.lineTotal")}>{formatMoney(item.line_total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <dl className="totals">
          <dt>{t("orders.subtotal")}</dt>
          <dd data-testid="order-detail-subtotal">{formatMoney(order.subtotal)}</dd>
          <dt>{t("orders.discount")}</dt>
          <dd>−{formatMoney(order.discount)}</dd>
          <dt>{t("orders.shipping")}</dt>
          <dd>{formatMoney(order.shipping_fee)}</dd>
          <dt className="totals-total">{t("orders.total")}</dt>
          <dd className="totals-total" data-testid="order-detail-total">
            {formatMoney(order.total)}
          </dd>
        </dl>
      </div>

      <div className="card">
        <h2>{t("orders.changeStatus")}</h2>
        {statusError ? (
          <Alert kind="error" testId="order-status-error">
            {statusError}
          </Alert>
        ) : null}
        {notification ? (
          <Alert kind={notificationOk ? "success" : "warning"} testId="order-notification">
            {notificationOk ? t("orders.notified") : t("orders.notifyFailed")}
            {notification.error_reason ? `: ${notification.error_reason}` : ` (${notification.status})`}
          </Alert>
        ) : null}
        {order.allowed_transitions.length === 0 ? (
          <p className="muted">{t("orders.noTransitions")}</p>
        ) : (
          <div className="stack-sm">
            {order.allowed_transitions.includes("shipped") ? (
              <div className="field field-narrow">
                <label htmlFor="order_tracking">{t("orders.tracking")}</label>
                <input id="order_tracking" value={tracking} onChange={(e) => setTracking(e.target.value)} data-testid="order-tracking" />
              </div>
            ) : null}
            <label className="checkbox">
              <input type="checkbox" checked={notify} onChange={(e) => setNotify(e.target.checked)} data-testid="order-notify" />
              {t("orders.notify")}
            </label>
            <div className="button-row">
              {order.allowed_transitions.map((s) => (
                <button
                  key={s}
                  type="button"
                  className={`btn btn-sm ${s === "cancelled" ? "btn-danger-ghost" : "btn-secondary"}`}
                  disabled={busy}
                  onClick={() => void changeStatus(s)}
                  data-testid={`order-status-${s}`}
                >
                  {t("orders.markAs", { status: t(statusKey(s)) })}
                </button>
              ))}
            </div>
          </div>
        )}
        <h3 className="subhead">{t("orders.history")}</h3>
        <ol className="timeline" data-testid="order-history">
          {order.status_history.map((h, i) => (
            <li key={i} className="timeline-item">
              <div className="timeline-meta">
                <OrderStatusBadge status={h.status} />
                <time dateTime={h.at}>{fmt.dateTime(h.at)}</time>
                {h.by_name ? <span className="muted">· {h.by_name}</span> : null}
              </div>
            </li>
          ))}
        </ol>
      </div>

      <div className="card">
        <h2>{t("orders.details")}</h2>
        <form className="form" onSubmit={save} data-testid="order-edit-form">
          {saveMsg ? (
            <Alert kind={saveMsg.kind} testId="order-save-result">
              {saveMsg.text}
            </Alert>
          ) : null}
          <div className="form-grid form-grid-2">
            <div className="field">
              <label htmlFor="order_edit_payment_method">{t("orders.paymentMethod")}</label>
              <select id="order_edit_payment_method" value={edit.payment_method} onChange={(e) => setEdit({ ...edit, payment_method: e.target.value })} data-testid="order-edit-payment-method">
                <option value="">{t("common.none")}</option>
                {edit.payment_method && !paymentKey(edit.payment_method) ? <option value={edit.payment_method}>{edit.payment_method}</option> : null}
                {PAYMENT_METHODS.map((m) => (
                  <option key={m} value={m}>
                    {t(`orders.payment.${m}` as TKey)}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="order_edit_payment_status">{t("orders.paymentStatus")}</label>
              <select
                id="order_edit_payment_status"
                value={edit.payment_status}
                onChange={(e) => setEdit({ ...edit, payment_status: e.target.value as PaymentStatus })}
                data-testid="order-edit-payment-status"
              >
                {PAYMENT_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {t(`orders.paymentStatus.${s}` as TKey)}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="order_edit_tracking">{t("orders.tracking")}</label>
              <input id="order_edit_tracking" value={edit.tracking_number} onChange={(e) => setEdit({ ...edit, tracking_number: e.target.value })} data-testid="order-edit-tracking" />
            </div>
          </div>
          <div className="field">
            <label htmlFor="order_edit_notes">{t("orders.notes")}</label>
            <textarea id="order_edit_notes" rows={2} value={edit.notes} onChange={(e) => setEdit({ ...edit, notes: e.target.value })} data-testid="order-edit-notes" />
          </div>
          <div className="button-row">
            <button type="submit" className="btn btn-primary btn-sm" disabled={busy} data-testid="order-edit-save">
              {t("common.save")}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
