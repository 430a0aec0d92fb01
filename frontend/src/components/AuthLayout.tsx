import type { ReactNode } from "react";
import { useI18n } from "../i18n";
import { LanguageSwitch } from "./LanguageSwitch";

/** Centered card layout for signup, login, password and invitation pages. */
export function AuthLayout({ title, subtitle, children, wide = false }: { title: string; subtitle?: ReactNode; children: ReactNode; wide?: boolean }) {
  const { t } = useI18n();
  return (
    <div className="auth-page">
      <header className="auth-top">
        <span className="brand">
          <span className="brand-mark" aria-hidden="true">W</span>
          {t("app.name")}
        </span>
        <LanguageSwitch />
      </header>
      <main className={`auth-card${wide ? " auth-card-wide" : ""}`}>
        <h1>{title}</h1>
        {subtitle ? <p className="auth-subtitle">{subtitle}</p> : null}
        {children}
      </main>
    </div>
  );
}
