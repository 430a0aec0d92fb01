import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router-dom";
import { endpoints } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { AuthLayout } from "../../components/AuthLayout";
import { splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { useI18n, type TKey } from "../../i18n";
import { useSession, useShop } from "../../session";

const FIELDS = ["email", "password"] as const;

export interface LoginLocationState {
  from?: string;
  /** i18n key of a success message to show (e.g. after a password reset). */
  flash?: TKey;
}

export function LoginPage() {
  const { t } = useI18n();
  const { status, setSession } = useSession();
  const shop = useShop();
  const navigate = useNavigate();
  const location = useLocation();
  const state = (location.state ?? {}) as LoginLocationState;
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  if (status === "authenticated" && !submitting) return <Navigate to={state.from || "/inbox"} replace />;

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitting(true);
    setAlert([]);
    setFieldErrors({});
    try {
      const session = await endpoints.login(email.trim(), password);
      setSession(session);
      navigate(state.from || "/inbox", { replace: true });
    } catch (err) {
      const split = splitErrors(err, FIELDS, t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
      setSubmitting(false);
    }
  }

  return (
    <AuthLayout title={t("login.title")} subtitle={shop ? t("login.subtitle", { shop: shop.name }) : undefined}>
      <form onSubmit={onSubmit} noValidate className="form">
        {state.flash && alert.length === 0 ? (
          <Alert kind="success" testId="login-flash">
            {t(state.flash)}
          </Alert>
        ) : null}
        <ErrorAlert messages={alert} />
        <Field id="email" type="email" label={t("login.email")} value={email} onChange={(e) => setEmail(e.target.value)} errors={fieldErrors.email} required autoComplete="username" />
        <Field id="password" type="password" label={t("login.password")} value={password} onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.password} required autoComplete="current-password" />
        <div className="form-row-end">
          <Link to="/forgot-password" data-testid="forgot-link">
            {t("login.forgot")}
          </Link>
        </div>
        <button type="submit" className="btn btn-primary btn-block" disabled={submitting} data-testid="login-submit">
          {submitting ? t("login.submitting") : t("login.submit")}
        </button>
      </form>
    </AuthLayout>
  );
}
