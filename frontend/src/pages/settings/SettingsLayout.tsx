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
      </nav>
      <Outlet />
    </section>
  );
}
