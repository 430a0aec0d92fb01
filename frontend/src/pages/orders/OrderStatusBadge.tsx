import type { OrderStatus } from "../../api";
import { useI18n, type TKey } from "../../i18n";

export function statusKey(status: string): TKey {
  return `orders.status.${status}` as TKey;
}

export function OrderStatusBadge({ status }: { status: OrderStatus }) {
  const { t } = useI18n();
  return <span className={`badge order-status order-status-${status}`}>{t(statusKey(status))}</span>;
}
