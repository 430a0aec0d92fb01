import { NavLink, Outlet } from "react-router-dom";
import { useI18n } from "../../i18n";
import { useSession } from "../../session";

export function SettingsLayout() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  return (
    <section className="page">
      <header className="page-header">
        <h1>{t("settings.title")}</h1>
      </header>
      <nav className="tabs" aria-label={t("settings.title")}>
        <NavLink to="/settings/team" className="tab" data-testid="settings-team-tab">
          {t("settings.team")}
        </NavLink>
        {canManage ? (
          <NavLink to="/settings/tokens" className="tab" data-testid="settings-tokens-tab">
            {t("settings.tokens")}
          </NavLink>
        ) : null}
        <NavLink to="/settings/whatsapp" className="tab" data-testid="settings-whatsapp-tab">
          {t("settings.whatsapp")}
        </NavLink>
        {canManage ? (
          <NavLink to="/settings/auto-replies" className="tab" data-testid="settings-auto-replies-tab">
            {t("settings.autoReplies")}
          </NavLink>
        ) : null}
        <NavLink to="/settings/quick-replies" className="tab" data-testid="settings-quick-replies-tab">
          {t("settings.quickReplies")}
        </NavLink>
        <NavLink to="/settings/contact-fields" className="tab" data-testid="settings-contact-fields-tab">
          {t("settings.contactFields")}
        </NavLink>
        <NavLink to="/settings/order-notifications" className="tab" data-testid="settings-order-notifications-tab">
          {t("settings.orderNotifications")}
        </NavLink>
        <NavLink to="/settings/opt-out" className="tab" data-testid="settings-opt-out-tab">
          {t("settings.optOut")}
        </NavLink>
        {canManage ? (
          <NavLink to="/settings/billing" className="tab" data-testid="settings-billing-tab">
            {t("settings.billing")}
          </NavLink>
        ) : null}
        {canManage ? (
          <NavLink to="/settings/audit" className="tab" data-testid="settings-audit-tab">
            {t("settings.audit")}
          </NavLink>
        ) : null}
        {canManage ? (
          <NavLink to="/settings/shop" className="tab" data-testid="settings-shop-tab">
            {t("settings.shop")}
          </NavLink>
        ) : null}
        {session?.role === "owner" ? (
          <NavLink to="/settings/data" className="tab" data-testid="settings-data-tab">
            {t("settings.data")}
          </NavLink>
        ) : null}
      </nav>
      <Outlet />
    </section>
  );
}
