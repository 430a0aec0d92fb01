import { useI18n, type TKey } from "../i18n";
import { EmptyState } from "./EmptyState";
import { Icon, type IconName } from "./Icon";

/** Placeholder body for sections that are not built yet. */
export function ComingSoon({ titleKey, textKey, icon }: { titleKey: TKey; textKey: TKey; icon: IconName }) {
  const { t } = useI18n();
  return (
    <section className="page">
      <header className="page-header">
        <h1>{t(titleKey)}</h1>
        <span className="badge badge-soon">{t("common.comingSoon")}</span>
      </header>
      <div className="card">
        <EmptyState icon={<Icon name={icon} className="icon icon-xl" />} title={t("common.comingSoon")}>
          {t(textKey)}
        </EmptyState>
      </div>
    </section>
  );
}
