import { NavLink, Outlet } from "react-router-dom";
import { useI18n } from "../../i18n";

/** Contacts section: the contact list and the segments share one header with tabs. */
export function ContactsLayout() {
  const { t } = useI18n();
  return (
    <section className="page">
      <header className="page-header">
        <h1>{t("nav.contacts")}</h1>
      </header>
      <nav className="tabs" aria-label={t("nav.contacts")}>
        <NavLink to="/contacts" end className="tab" data-testid="contacts-tab">
          {t("contacts.tab")}
        </NavLink>
        <NavLink to="/contacts/segments" className="tab" data-testid="segments-tab">
          {t("segments.tab")}
        </NavLink>
      </nav>
      <Outlet />
    </section>
  );
}
