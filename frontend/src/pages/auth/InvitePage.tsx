import { useEffect, useState, type FormEvent } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { ApiError, endpoints, type InvitationInfo } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { AuthLayout } from "../../components/AuthLayout";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";
import { useSession } from "../../session";

type LoadState = { state: "loading" } | { state: "invalid" } | { state: "error"; message: string } | { state: "ready"; invitation: InvitationInfo };

export function InvitePage() {
  const { t } = useI18n();
  const { token = "" } = useParams();
  const { setSession, refresh } = useSession();
  const navigate = useNavigate();
  const [load, setLoad] = useState<LoadState>({ state: "loading" });
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);

  useEffect(() => {
    let cancelled = false;
    endpoints
      .invitation(token)
      .then((invitation) => !cancelled && setLoad({ state: "ready", invitation }))
      .catch((err) => {
        if (cancelled) return;
        if (err instanceof ApiError && (err.status === 404 || err.status === 410)) setLoad({ state: "invalid" });
        else setLoad({ state: "error", message: errorMessage(err, t) });
      });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [token]);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitting(true);
    setAlert([]);
    setFieldErrors({});
    try {
      const session = await endpoints.acceptInvitation(token, name.trim(), password);
      setSession(session);
      void refresh();
      navigate("/inbox", { replace: true });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 410)) {
        setLoad({ state: "invalid" });
      } else {
        const split = splitErrors(err, ["name", "password"], t);
        setFieldErrors(split.fields);
        setAlert(split.alert);
      }
      setSubmitting(false);
    }
  }

  if (load.state === "loading") {
    return (
      <AuthLayout title={t("invite.title")}>
        <Spinner />
      </AuthLayout>
    );
  }
  if (load.state === "invalid" || load.state === "error") {
    return (
      <AuthLayout title={t("invite.title")}>
        <Alert kind="error" testId="invite-invalid">
          {load.state === "invalid" ? t("invite.invalid") : load.message}
        </Alert>
        {load.state === "invalid" ? <p className="muted">{t("invite.invalidHelp")}</p> : null}
      </AuthLayout>
    );
  }

  const { invitation } = load;
  return (
    <AuthLayout title={t("invite.title")} subtitle={t("invite.text", { shop: invitation.shop_name, role: t(`role.${invitation.role}`) })}>
      <form onSubmit={onSubmit} noValidate className="form">
        <ErrorAlert messages={alert} />
        <Field id="invite_email_display" label={t("invite.email")} value={invitation.email} readOnly disabled />
        <Field id="name" label={t("invite.name")} value={name} onChange={(e) => setName(e.target.value)} errors={fieldErrors.name} required autoComplete="name" />
        <Field id="password" type="password" label={t("invite.password")} value={password} onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.password} required autoComplete="new-password" />
        <button type="submit" className="btn btn-primary btn-block" disabled={submitting} data-testid="invite-accept">
          {t("invite.submit")}
        </button>
      </form>
    </AuthLayout>
  );
}
