import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type ApiToken, type ApiTokenArea, type CreatedApiToken } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { CopyBox } from "../../components/CopyBox";
import { errorMessage, loadList, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";
import { useFormatDate, useSession } from "../../session";

export function TokensPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const formatDate = useFormatDate();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const [busyId, setBusyId] = useState<number | null>(null);
  const [areas, setAreas] = useState<ApiTokenArea[]>([]);
  // The chosen permission per area ("" = no access).
  const [access, setAccess] = useState<Record<string, string>>({});

  useEffect(() => {
    if (!canManage) return;
    endpoints.tokenAreas().then(setAreas, (err) => setError(errorMessage(err, t)));
    return loadList(endpoints.tokens(), setTokens, setError, t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canManage]);

  if (!canManage) {
    return (
      <Alert kind="info" testId="tokens-forbidden">
        {t("tokens.forbidden")}
      </Alert>
    );
  }

  async function onCreate(e: FormEvent) {
    e.preventDefault();
    setCreating(true);
    setFieldErrors({});
    setAlert([]);
    try {
      const token = await endpoints.createToken(name.trim(), Object.values(access).filter(Boolean));
      const { token: _secret, ...listed } = token;
      void _secret;
      setTokens((list) => [listed, ...(list ?? [])]);
      setCreated(token);
      setName("");
      setAccess({});
    } catch (err) {
      const split = splitErrors(err, ["name", "scopes"], t);
      setFieldErrors({ token_name: split.fields.name ?? [], token_scopes: split.fields.scopes ?? [] });
      setAlert(split.alert);
    } finally {
      setCreating(false);
    }
  }

  async function onRevoke(token: ApiToken) {
    if (!window.confirm(t("tokens.confirmRevoke", { name: token.name }))) return;
    setBusyId(token.id);
    setError(null);
    try {
      await endpoints.revokeToken(token.id);
      setTokens((list) => (list ?? []).filter((x) => x.id !== token.id));
      if (created?.id === token.id) setCreated(null);
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusyId(null);
    }
  }

  return (
    <div className="stack">
      {error ? (
        <Alert kind="error" testId="tokens-error">
          {error}
        </Alert>
      ) : null}
      <div className="card">
        <h2>{t("tokens.title")}</h2>
        <p className="muted">{t("tokens.intro")}</p>
        <form className="form inline-form" onSubmit={onCreate} noValidate>
          <ErrorAlert messages={alert} />
          <div className="inline-fields">
            <Field id="token_name" label={t("tokens.name")} value={name} onChange={(e) => setName(e.target.value)} errors={fieldErrors.token_name} required autoComplete="off" placeholder="e.g. Website" />
            <div className="field field-button">
              <button type="submit" className="btn btn-primary" disabled={creating} data-testid="token-create">
                {t("tokens.create")}
              </button>
            </div>
          </div>
          <fieldset className="field" data-testid="token-permissions">
            <legend>{t("tokens.permissions")}</legend>
            <p className="muted">{t("tokens.permissionsHint")}</p>
            {areas.map((area) => (
              <label key={area.area} className="inline-fields">
                <span>{area.label}</span>
                <select
                  value={access[area.area] ?? ""}
                  data-testid={`token-scope-${area.area}`}
                  onChange={(e) => setAccess((chosen) => ({ ...chosen, [area.area]: e.target.value }))}
                >
                  <option value="">{t("tokens.access.none")}</option>
                  <option value={area.read}>{t("tokens.access.read")}</option>
                  {area.write ? (
                    <option value={area.write}>{t(area.write.endsWith(":send") ? "tokens.access.send" : "tokens.access.write")}</option>
                  ) : null}
                </select>
              </label>
            ))}
            {fieldErrors.token_scopes?.length ? (
              <div className="field-error" data-testid="token_scopes-error">
                {fieldErrors.token_scopes.join(" ")}
              </div>
            ) : null}
          </fieldset>
        </form>
        {created ? (
          <div className="secret-box">
            <Alert kind="warning">
              <strong>{t("tokens.secretTitle")}</strong> — {t("tokens.secretWarning")}
            </Alert>
            <CopyBox value={created.token} testId="token-secret" label={t("tokens.secretTitle")} />
          </div>
        ) : null}
      </div>

      <div className="card">
        {tokens === null ? (
          <Spinner />
        ) : tokens.length === 0 ? (
          <p className="muted">{t("tokens.empty")}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="tokens-table">
              <thead>
                <tr>
                  <th>{t("tokens.name")}</th>
                  <th>{t("tokens.prefix")}</th>
                  <th>{t("tokens.permissions")}</th>
                  <th>{t("tokens.created")}</th>
                  <th>{t("tokens.lastUsed")}</th>
                  <th>{t("tokens.createdBy")}</th>
                  <th className="actions" />
                </tr>
              </thead>
              <tbody>
                {tokens.map((tok) => (
                  <tr key={tok.id} data-testid={`token-row-${tok.id}`}>
                    <td data-label={t("tokens.name")}>{tok.name}</td>
                    <td data-label={t("tokens.prefix")}>
                      <code>{tok.prefix}…</code>
                    </td>
                    <td data-label={t("tokens.permissions")} data-testid={`token-scopes-${tok.id}`}>
                      {(tok.scopes ?? []).join(", ")}
                    </td>
                    <td data-label={t("tokens.created")}>{formatDate(tok.created_at)}</td>
                    <td data-label={t("tokens.lastUsed")}>{tok.last_used_at ? formatDate(tok.last_used_at) : t("common.never")}</td>
                    <td data-label={t("tokens.createdBy")}>{tok.created_by_name}</td>
                    <td className="actions">
                      <button type="button" className="btn btn-danger-ghost btn-sm" disabled={busyId === tok.id} data-testid={`token-revoke-${tok.id}`} onClick={() => void onRevoke(tok)}>
                        {t("tokens.revoke")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </div>
  );
}
