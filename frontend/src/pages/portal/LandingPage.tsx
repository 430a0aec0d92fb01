import { Link } from "react-router-dom";
import { LanguageSwitch } from "../../components/LanguageSwitch";
import { useConfig } from "../../config";
import { useI18n } from "../../i18n";

export function LandingPage() {
  const { t } = useI18n();
  const { platformDomain } = useConfig();
  return (
    <div className="auth-page">
      <header className="auth-top">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">W</span>
          {t("app.name")}
        </span>
        <LanguageSwitch />
      </header>
      <main className="landing">
        <h1>{t("portal.landingTitle")}</h1>
        <p className="lead">{t("portal.landingText")}</p>
        <Link to="/signup" className="btn btn-primary btn-lg" data-testid="signup-link">
          {t("portal.cta")}
        </Link>
        <p className="muted small">{t("portal.staffNote", { domain: platformDomain })}</p>
      </main>
    </div>
  );
}
