import { useEffect, useState } from "react";
import { NavLink, Outlet, useLocation, useNavigate } from "react-router-dom";
import { Icon, type IconName } from "../../components/Icon";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { useI18n, type TKey } from "../../i18n";
import { LiveProvider } from "../../live";
import { InboxNavBadge } from "../inbox/InboxNavBadge";
import { BillingBanner } from "../settings/BillingPage";
import { DeletionBanner } from "../settings/ShopPage";
import { useSession, useShop } from "../../session";

export const NAV_ITEMS: { to: string; key: TKey; icon: IconName }[] = [
  { to: "/inbox", key: "nav.inbox", icon: "inbox" },
  { to: "/contacts", key: "nav.contacts", icon: "contacts" },
  { to: "/orders", key: "nav.orders", icon: "orders" },
  { to: "/pipeline", key: "nav.pipeline", icon: "pipeline" },
  { to: "/broadcasts", key: "nav.broadcasts", icon: "broadcasts" },
  { to: "/analytics", key: "nav.analytics", icon: "analytics" },
  { to: "/settings", key: "nav.settings", icon: "settings" },
];

export function DashboardLayout() {
  const { t } = useI18n();
  const { session, logout } = useSession();
  const shop = useShop();
  const navigate = useNavigate();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [loggingOut, setLoggingOut] = useState(false);

  // Close the mobile menu whenever the route changes.
  useEffect(() => setMenuOpen(false), [location.pathname]);

  async function onLogout() {
    setLoggingOut(true);
    try {
      await logout();
    } catch {
      /* session is cleared anyway */
    }
    navigate("/login", { replace: true });
  }

  const user = session?.user;
  return (
    <LiveProvider>
    <div className={`app-shell${menuOpen ? " menu-open" : ""}`}>
      <aside className="sidebar">
        <div className="sidebar-head">
          <div className="shop-name" data-testid="shop-name">
            <span className="brand-mark" aria-hidden="true">
              {(shop?.name || "W").charAt(0).toUpperCase()}
            </span>
            <span className="shop-name-meta">
              <span className="shop-name-text">{shop?.name}</span>
              {shop?.status === "trial" ? <span className="badge badge-trial">{t("shop.trial")}</span> : null}
            </span>
          </div>
          <button
            type="button"
            className="btn-icon menu-toggle"
            aria-expanded={menuOpen}
            aria-controls="main-nav"
            aria-label={t("nav.menu")}
            data-testid="nav-toggle"
            onClick={() => setMenuOpen((o) => !o)}
          >
            <Icon name={menuOpen ? "close" : "menu"} />
          </button>
        </div>
        <div className="sidebar-body" id="main-nav">
          <nav aria-label={t("nav.main")} className="nav">
            {NAV_ITEMS.map((item) => (
              <NavLink key={item.to} to={item.to} className="nav-link" data-testid={`nav-${item.to.slice(1)}`}>
                <Icon name={item.icon} />
                <span>{t(item.key)}</span>
                {item.to === "/inbox" ? <InboxNavBadge /> : null}
              </NavLink>
            ))}
          </nav>
          <div className="sidebar-foot">
            <LanguageSwitch className="lang-switch-block" />
            {user ? (
              <div className="user-box" data-testid="user-box">
                <div className="avatar" aria-hidden="true">
                  {user.name.charAt(0).toUpperCase()}
                </div>
                <div className="user-meta">
                  <div className="user-name" data-testid="user-name">
                    {user.name}
                  </div>
                  <div className="user-role" data-testid="user-role">
                    {session ? t(`role.${session.role}`) : null}
                  </div>
                </div>
              </div>
            ) : null}
            <button type="button" className="btn btn-ghost btn-block logout" onClick={onLogout} disabled={loggingOut} data-testid="logout">
              <Icon name="logout" />
              {t("nav.logout")}
            </button>
          </div>
        </div>
      </aside>
      <main className="content">
        <DeletionBanner />
        <BillingBanner />
        <Outlet />
      </main>
    </div>
    </LiveProvider>
  );
}
