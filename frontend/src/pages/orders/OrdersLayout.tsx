import { NavLink, Outlet } from "react-router-dom";
import { useI18n } from "../../i18n";

/** Orders section: order list / detail and the product catalog. */
export function OrdersLayout() {
  const { t } = useI18n();
  return (
    <section className="page">
      <header className="page-header">
        <h1>{t("nav.orders")}</h1>
      </header>
      <nav className="tabs" aria-label={t("nav.orders")}>
        <NavLink to="/orders" end className="tab" data-testid="orders-tab">
          {t("orders.tab")}
        </NavLink>
        <NavLink to="/orders/catalog" className="tab" data-testid="catalog-tab">
          {t("catalog.tab")}
        </NavLink>
      </nav>
      <Outlet />
    </section>
  );
}
