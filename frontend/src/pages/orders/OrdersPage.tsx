import { ComingSoon } from "../../components/ComingSoon";

export function OrdersPage() {
  return <ComingSoon titleKey="nav.orders" textKey="page.orders.text" icon="orders" />;
}
