import { Link } from "react-router-dom";
import { EmptyState } from "../components/EmptyState";
import { useI18n } from "../i18n";

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <section className="page">
      <header className="page-header">
        <h1>{t("page.notFound")}</h1>
      </header>
      <div className="card">
        <EmptyState title={t("page.notFoundText")}>
          <Link to="/inbox">{t("nav.inbox")}</Link>
        </EmptyState>
      </div>
    </section>
  );
}
