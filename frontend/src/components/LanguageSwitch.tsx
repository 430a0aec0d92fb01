import type { Lang } from "../config";
import { useI18n } from "../i18n";

export function LanguageSwitch({ className = "" }: { className?: string }) {
  const { lang, setLang, t } = useI18n();
  return (
    <label className={`lang-switch ${className}`}>
      <span className="visually-hidden">{t("lang.label")}</span>
      <svg aria-hidden="true" viewBox="0 0 24 24" className="icon">
        <circle cx="12" cy="12" r="10" />
        <path d="M2 12h20M12 2a15.3 15.3 0 0 1 4 10 15.3 15.3 0 0 1-4 10 15.3 15.3 0 0 1-4-10 15.3 15.3 0 0 1 4-10z" />
      </svg>
      <select data-testid="lang-switch" value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
        <option value="id">{t("lang.id")}</option>
        <option value="en">{t("lang.en")}</option>
      </select>
    </label>
  );
}
