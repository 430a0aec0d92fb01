import { useI18n } from "../i18n";

export function Spinner({ full = false }: { full?: boolean }) {
  const { t } = useI18n();
  return (
    <div className={full ? "spinner-page" : "spinner-inline"} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span className="visually-hidden">{t("common.loading")}</span>
    </div>
  );
}
