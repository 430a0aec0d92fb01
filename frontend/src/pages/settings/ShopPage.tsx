import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type ShopDeletionState } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";
import { useFormatDate, useSession } from "../../session";

/** Settings > Shop: an owner deletes the shop (with the password), and can cancel during the grace period. */
export function ShopPage() {
  const { t } = useI18n();
  const { session, refresh } = useSession();
  const isOwner = session?.role === "owner";
  const formatDate = useFormatDate();
  const [state, setState] = useState<ShopDeletionState | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState("");
  const [understood, setUnderstood] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let cancelled = false;
    endpoints.shopDeletion().then(
      (body) => !cancelled && setState(body),
      (err) => !cancelled && setError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function onDelete(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setFieldErrors({});
    setAlert([]);
    try {
      setState(await endpoints.requestShopDeletion(password));
      setPassword("");
      await refresh();
    } catch (err) {
      const split = splitErrors(err, ["password"], t);
      setFieldErrors({ delete_password: split.fields.password ?? [] });
      setAlert(split.alert);
    } finally {
      setBusy(false);
    }
  }

  async function onCancel() {
    setBusy(true);
    setError(null);
    try {
      setState(await endpoints.cancelShopDeletion());
      setUnderstood(false);
      await refresh();
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  }

  if (error) {
    return (
      <Alert kind="error" testId="shop-error">
        {error}
      </Alert>
    );
  }
  if (!state) return <Spinner />;

  const pending = state.status === "deletion_pending";
  return (
    <div className="card" data-testid="shop-deletion">
      <h2>{t("shopDeletion.title")}</h2>
      {pending ? (
        <div className="stack-sm">
          <Alert kind="warning" testId="shop-deletion-pending">
            {t("shopDeletion.pending", { date: formatDate(state.deletion_due_at) })}
          </Alert>
          {isOwner ? (
            <div className="button-row">
              <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void onCancel()} data-testid="shop-deletion-cancel">
                {t("shopDeletion.cancel")}
              </button>
            </div>
          ) : (
            <p className="muted">{t("shopDeletion.ownerOnly")}</p>
          )}
        </div>
      ) : isOwner ? (
        <form className="form stack-sm" onSubmit={onDelete} noValidate data-testid="shop-deletion-form">
          <p className="muted">{t("shopDeletion.intro", { days: String(state.grace_days) })}</p>
          <ErrorAlert messages={alert} />
          <label className="checkbox">
            <input type="checkbox" checked={understood} onChange={(e) => setUnderstood(e.target.checked)} data-testid="shop-deletion-understood" />
            {t("shopDeletion.understood")}
          </label>
          <Field id="delete_password" type="password" label={t("shopDeletion.password")} value={password} onChange={(e) => setPassword(e.target.value)} errors={fieldErrors.delete_password} autoComplete="current-password" required />
          <div className="button-row">
            <button type="submit" className="btn btn-danger" disabled={busy || !understood || !password} data-testid="shop-deletion-submit">
              {t("shopDeletion.submit")}
            </button>
          </div>
        </form>
      ) : (
        <p className="muted">{t("shopDeletion.ownerOnly")}</p>
      )}
    </div>
  );
}

/** Every page of a shop waiting for its deletion says so, with the date. */
export function DeletionBanner() {
  const { t } = useI18n();
  const { session } = useSession();
  const formatDate = useFormatDate();
  if (session?.shop.status !== "deletion_pending") return null;
  return (
    <Alert kind="warning" testId="deletion-banner">
      {t("shopDeletion.banner", { date: formatDate(session.shop.deletion_due_at) })}
    </Alert>
  );
}
