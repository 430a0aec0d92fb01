import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useNavigate } from "react-router-dom";
import { endpoints, ORDER_STATUSES, type Order, type OrderStatus } from "../../api";
import { Alert } from "../../components/Alert";
import { EmptyState } from "../../components/EmptyState";
import { errorMessage } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { Modal } from "../../components/Modal";
import { Spinner } from "../../components/Spinner";
import { formatMoney } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters } from "../../session";
import { OrderForm } from "./OrderForm";
import { OrderStatusBadge, statusKey } from "./OrderStatusBadge";

export function OrdersPage() {
  const { t } = useI18n();
  const fmt = useFormatters();
  const navigate = useNavigate();
  const [status, setStatus] = useState<OrderStatus | "">("");
  const [search, setSearch] = useState("");
  const [q, setQ] = useState("");
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const seq = useRef(0);

  useEffect(() => {
    const timer = window.setTimeout(() => setQ(search.trim()), 300);
    return () => window.clearTimeout(timer);
  }, [search]);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    setOrders(null);
    try {
      const page = await endpoints.orders({ status, q });
      if (mine !== seq.current) return;
      setOrders(page?.results ?? []);
      setNextCursor(page?.next_cursor ?? null);
      setError(null);
    } catch (err) {
      if (mine !== seq.current) return;
      setOrders([]);
      setError(errorMessage(err, t));
    }
  }, [status, q, t]);

  useEffect(() => {
    void load();
  }, [load]);

  async function loadMore() {
    if (!nextCursor) return;
    try {
      const page = await endpoints.orders({ status, q, cursor: nextCursor });
      setOrders((old) => [...(old ?? []), ...(page?.results ?? [])]);
      setNextCursor(page?.next_cursor ?? null);
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  return (
    <div className="stack">
      <div className="toolbar">
        <div className="search-box toolbar-search">
          <Icon name="search" className="icon icon-xs" />
          <input type="search" aria-label={t("orders.search")} placeholder={t("orders.search")} value={search} onChange={(e) => setSearch(e.target.value)} data-testid="orders-search" />
        </div>
        <select aria-label={t("orders.status")} value={status} onChange={(e) => setStatus(e.target.value as OrderStatus | "")} data-testid="orders-filter-status">
          <option value="">{t("orders.allStatuses")}</option>
          {ORDER_STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(statusKey(s))}
            </option>
          ))}
        </select>
        <div className="toolbar-actions">
          <button type="button" className="btn btn-primary btn-sm" onClick={() => setCreating(true)} data-testid="order-new">
            {t("orders.new")}
          </button>
        </div>
      </div>
      {error ? (
        <Alert kind="error" testId="orders-error">
          {error}
        </Alert>
      ) : null}
      <div className="card card-flush">
        {orders === null ? (
          <Spinner />
        ) : orders.length === 0 ? (
          <EmptyState icon={<Icon name="orders" className="icon icon-xl" />} title={status || q ? t("inbox.noResults") : t("orders.empty")}>
            {status || q ? t("inbox.noResultsText") : t("page.orders.text")}
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="orders-table">
              <thead>
                <tr>
                  <th>{t("orders.number")}</th>
                  <th>{t("orders.contact")}</th>
                  <th>{t("orders.status")}</th>
                  <th>{t("orders.paymentStatus")}</th>
                  <th>{t("orders.total")}</th>
                  <th>{t("orders.date")}</th>
                </tr>
              </thead>
              <tbody>
                {orders.map((o) => (
                  <tr key={o.id} data-testid={`order-row-${o.id}`} className="row-link" onClick={() => navigate(`/orders/${o.id}`)}>
                    <td data-label={t("orders.number")}>
                      <Link to={`/orders/${o.id}`} onClick={(e) => e.stopPropagation()}>
                        {o.number || `#${o.id}`}
                      </Link>
                    </td>
                    <td data-label={t("orders.contact")}>{o.contact?.name || o.contact?.phone}</td>
                    <td data-label={t("orders.status")}>
                      <OrderStatusBadge status={o.status} />
                    </td>
                    <td data-label={t("orders.paymentStatus")}>{t(`orders.paymentStatus.${o.payment_status}` as TKey)}</td>
                    <td data-label={t("orders.total")}>{formatMoney(o.total)}</td>
                    <td data-label={t("orders.date")}>{fmt.dateTime(o.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {nextCursor ? (
          <div className="center list-more">
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => void loadMore()} data-testid="orders-load-more">
              {t("inbox.loadMore")}
            </button>
          </div>
        ) : null}
      </div>
      {creating ? (
        <Modal title={t("orders.new")} onClose={() => setCreating(false)} testId="order-dialog" wide>
          <OrderForm
            onSaved={(order) => {
              setCreating(false);
              navigate(`/orders/${order.id}`);
            }}
            onCancel={() => setCreating(false)}
          />
        </Modal>
      ) : null}
    </div>
  );
}
