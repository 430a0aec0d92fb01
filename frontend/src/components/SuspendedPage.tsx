import { useI18n } from "../i18n";
import { Icon } from "./Icon";
import { LanguageSwitch } from "./LanguageSwitch";

export function SuspendedPage({ detail, shopName }: { detail: string | null; shopName?: string | null }) {
  const { t } = useI18n();
  return (
    <div className="auth-page">
      <div className="auth-top">
        <span className="brand">{t("app.name")}</span>
        <LanguageSwitch />
      </div>
      <main className="auth-card suspended" data-testid="suspended">
        <div className="suspended-icon">
          <Icon name="alert" />
        </div>
        <h1>{t("suspended.title")}</h1>
        {shopName ? <p className="muted">{shopName}</p> : null}
        <p>{detail || t("suspended.text")}</p>
      </main>
    </div>
  );
}
