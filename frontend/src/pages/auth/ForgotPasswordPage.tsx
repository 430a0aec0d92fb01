import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { endpoints } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { AuthLayout } from "../../components/AuthLayout";
import { splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { useI18n } from "../../i18n";

export function ForgotPasswordPage() {
  const { t } = useI18n();
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitting(true);
    setAlert([]);
    setFieldErrors({});
    try {
      await endpoints.passwordReset(email.trim());
      setSent(true);
    } catch (err) {
      const split = splitErrors(err, ["email"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <AuthLayout title={t("forgot.title")} subtitle={sent ? undefined : t("forgot.text")}>
      {sent ? (
        <Alert kind="success" testId="forgot-sent">
          {t("forgot.sent")}
        </Alert>
      ) : (
        <form onSubmit={onSubmit} noValidate className="form">
          <ErrorAlert messages={alert} />
          <Field id="email" type="email" label={t("forgot.email")} value={email} onChange={(e) => setEmail(e.target.value)} errors={fieldErrors.email} required autoComplete="email" />
          <button type="submit" className="btn btn-primary btn-block" disabled={submitting} data-testid="forgot-submit">
            {t("forgot.submit")}
          </button>
        </form>
      )}
      <p className="center small">
        <Link to="/login">{t("common.backToLogin")}</Link>
      </p>
    </AuthLayout>
  );
}
