import { useState, type FormEvent } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { endpoints } from "../../api";
import { ErrorAlert } from "../../components/Alert";
import { AuthLayout } from "../../components/AuthLayout";
import { splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { useI18n } from "../../i18n";
import type { LoginLocationState } from "./LoginPage";

export function ResetPasswordPage() {
  const { t } = useI18n();
  const { uid = "", token = "" } = useParams();
  const navigate = useNavigate();
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitting(true);
    setAlert([]);
    setFieldErrors({});
    try {
      await endpoints.passwordResetConfirm(uid, token, password);
      const state: LoginLocationState = { flash: "reset.success" };
      navigate("/login", { replace: true, state });
    } catch (err) {
      // uid/token errors are not form fields: they go to the alert box.
      const split = splitErrors(err, ["new_password"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
      setSubmitting(false);
    }
  }

  return (
    <AuthLayout title={t("reset.title")}>
      <form onSubmit={onSubmit} noValidate className="form">
        <ErrorAlert messages={alert} />
        <Field id="new_password" type="password" label={t("reset.newPassword")} value={password} onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.new_password} required autoComplete="new-password" />
        <button type="submit" className="btn btn-primary btn-block" disabled={submitting} data-testid="reset-submit">
          {t("reset.submit")}
        </button>
      </form>
      <p className="center small">
        <Link to="/login">{t("common.backToLogin")}</Link>
      </p>
    </AuthLayout>
  );
}
