import { useEffect, useState, type FormEvent } from "react";
import { endpoints, type WaAccount, type WaAccountPayload, type WaTemplate, type WaTestResult } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { CopyBox } from "../../components/CopyBox";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";
import { useFormatters, useSession } from "../../session";

const FIELDS = ["phone_number_id", "waba_id", "display_phone_number", "access_token", "app_secret", "verify_token"] as const;

function emptyForm(account: WaAccount | null): WaAccountPayload {
  // Secrets are never pre-filled: the API does not return them, and empty means "keep the stored one".
  return {
    phone_number_id: account?.phone_number_id ?? "",
    waba_id: account?.waba_id ?? "",
    display_phone_number: account?.display_phone_number ?? "",
    access_token: "",
    app_secret: "",
    verify_token: account?.verify_token ?? "",
  };
}

function StatusPanel({ account }: { account: WaAccount }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const state = !account.connected ? "disconnected" : account.status === "error" ? "error" : "connected";
  const label = state === "connected" ? t("wa.connected") : state === "error" ? t("wa.statusError") : t("wa.notConnected");
  return (
    <div className={`wa-status wa-status-${state}`} data-testid="wa-status" data-state={state}>
      <div className="wa-status-head">
        <span className={`status-dot status-${state}`} aria-hidden="true" />
        <strong>{label}</strong>
        {account.verified_name ? <span className="muted">· {account.verified_name}</span> : null}
        {account.display_phone_number ? <span className="muted">· {account.display_phone_number}</span> : null}
      </div>
      {account.connected ? (
        <dl className="kv">
          <dt>{t("wa.quality")}</dt>
          <dd>{account.quality_rating || "—"}</dd>
          <dt>{t("wa.throughput")}</dt>
          <dd>{account.throughput_level || "—"}</dd>
          <dt>{t("wa.lastChecked")}</dt>
          <dd>{account.last_checked_at ? fmt.dateTime(account.last_checked_at) : t("common.never")}</dd>
        </dl>
      ) : null}
      {account.status === "error" && account.last_error_reason ? (
        <Alert kind="error" testId="wa-last-error">
          {account.last_error_reason}
          {account.last_error_code ? <span className="muted small"> ({t("wa.errorCode", { code: account.last_error_code })})</span> : null}
        </Alert>
      ) : null}
    </div>
  );
}

function TemplatesCard({ canManage }: { canManage: boolean }) {
  const { t } = useI18n();
  const [templates, setTemplates] = useState<WaTemplate[] | null>(null);
  const [syncing, setSyncing] = useState(false);
  const [result, setResult] = useState<{ kind: "success" | "error"; text: string } | null>(null);

  async function load() {
    try {
      setTemplates(await endpoints.templates());
    } catch (err) {
      setTemplates([]);
      setResult({ kind: "error", text: errorMessage(err, t) });
    }
  }

  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function sync() {
    setSyncing(true);
    setResult(null);
    try {
      const res = await endpoints.syncTemplates();
      setResult({ kind: "success", text: t("templates.synced", { count: res?.synced ?? 0 }) });
      await load();
    } catch (err) {
      setResult({ kind: "error", text: errorMessage(err, t) });
    } finally {
      setSyncing(false);
    }
  }

  return (
    <div className="card">
      <div className="card-head">
        <h2>{t("templates.title")}</h2>
        {canManage ? (
          <button type="button" className="btn btn-secondary btn-sm" disabled={syncing} data-testid="templates-sync" onClick={() => void sync()}>
            {syncing ? t("templates.syncing") : t("templates.sync")}
          </button>
        ) : null}
      </div>
      <p className="muted small">{t("templates.intro")}</p>
      {result ? (
        <Alert kind={result.kind} testId="templates-sync-result">
          {result.text}
        </Alert>
      ) : null}
      {templates === null ? (
        <Spinner />
      ) : templates.length === 0 ? (
        <p className="muted">{t("templates.empty")}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="templates-table">
            <thead>
              <tr>
                <th>{t("templates.name")}</th>
                <th>{t("templates.language")}</th>
                <th>{t("templates.category")}</th>
                <th>{t("templates.status")}</th>
                <th>{t("templates.body")}</th>
              </tr>
            </thead>
            <tbody>
              {templates.map((tpl) => (
                <tr key={tpl.id} data-testid={`template-row-${tpl.id}`}>
                  <td data-label={t("templates.name")}>
                    <code>{tpl.name}</code>
                  </td>
                  <td data-label={t("templates.language")}>{tpl.language}</td>
                  <td data-label={t("templates.category")}>{tpl.category}</td>
                  <td data-label={t("templates.status")}>
                    <span className={`badge ${tpl.status?.toUpperCase() === "APPROVED" ? "badge-ok" : "badge-soon"}`}>{tpl.status}</span>
                  </td>
                  <td data-label={t("templates.body")} className="cell-text">
                    {tpl.body_text}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function WhatsAppPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const [account, setAccount] = useState<WaAccount | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [form, setForm] = useState<WaAccountPayload>(emptyForm(null));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [testing, setTesting] = useState(false);
  const [testResult, setTestResult] = useState<WaTestResult | null>(null);
  const [testError, setTestError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    endpoints
      .waAccount()
      .then((a) => {
        if (cancelled) return;
        setAccount(a);
        setForm(emptyForm(a));
      })
      .catch((err) => {
        if (!cancelled && canManage) setLoadError(errorMessage(err, t));
      })
      .finally(() => !cancelled && setLoaded(true));
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const set = (key: keyof WaAccountPayload) => (e: { target: { value: string } }) => {
    setForm((f) => ({ ...f, [key]: e.target.value }));
    setSaved(false);
  };

  async function onSave(e: FormEvent) {
    e.preventDefault();
    setSaving(true);
    setSaved(false);
    setFieldErrors({});
    setAlert([]);
    try {
      const payload: WaAccountPayload = {
        phone_number_id: form.phone_number_id.trim(),
        waba_id: form.waba_id.trim(),
        display_phone_number: form.display_phone_number.trim(),
        access_token: form.access_token.trim(),
        app_secret: form.app_secret.trim(),
        verify_token: form.verify_token.trim(),
      };
      const updated = await endpoints.saveWaAccount(payload);
      setAccount(updated);
      setForm(emptyForm(updated));
      setSaved(true);
    } catch (err) {
      const split = splitErrors(err, FIELDS, t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  async function onTest() {
    setTesting(true);
    setTestResult(null);
    setTestError(null);
    try {
      const result = await endpoints.testWaAccount();
      setTestResult(result);
      if (result?.ok) {
        setAccount((a) =>
          a ? { ...a, status: "connected", verified_name: result.verified_name || a.verified_name, quality_rating: result.quality_rating || a.quality_rating, throughput_level: result.throughput_level || a.throughput_level } : a,
        );
      }
    } catch (err) {
      setTestError(errorMessage(err, t));
    } finally {
      setTesting(false);
    }
  }

  if (!loaded) return <Spinner />;

  if (!canManage) {
    return (
      <div className="stack">
        <Alert kind="info" testId="wa-readonly">
          {t("wa.readOnly")}
        </Alert>
        {account ? (
          <div className="card">
            <StatusPanel account={account} />
          </div>
        ) : null}
      </div>
    );
  }

  const stored = account?.connected ? t("wa.stored") : "";

  return (
    <div className="stack">
      {loadError ? (
        <Alert kind="error" testId="wa-error">
          {loadError}
        </Alert>
      ) : null}
      <div className="card">
        <h2>{t("wa.title")}</h2>
        {account ? <StatusPanel account={account} /> : null}
        <div className="wa-test">
          <button type="button" className="btn btn-secondary" disabled={testing} data-testid="wa-test" onClick={() => void onTest()}>
            {testing ? t("wa.testing") : t("wa.test")}
          </button>
          {testResult || testError ? (
            <div
              className={`alert ${testResult?.ok ? "alert-success" : "alert-error"}`}
              role={testResult?.ok ? "status" : "alert"}
              data-testid="wa-test-result"
              data-ok={testResult?.ok ? "true" : "false"}
            >
              {testResult?.ok ? (
                <>
                  <strong>{t("wa.testOk")}</strong>
                  {testResult.verified_name ? ` ${testResult.verified_name}` : ""}
                  {testResult.quality_rating ? ` · ${t("wa.quality")}: ${testResult.quality_rating}` : ""}
                  {testResult.throughput_level ? ` · ${t("wa.throughput")}: ${testResult.throughput_level}` : ""}
                </>
              ) : (
                <>
                  <strong>{t("wa.testFailed")}</strong> {testResult && !testResult.ok ? testResult.reason : testError}
                  {testResult && !testResult.ok && testResult.code ? <span className="small"> ({t("wa.errorCode", { code: testResult.code })})</span> : null}
                </>
              )}
            </div>
          ) : null}
        </div>
      </div>

      <div className="card">
        <h2>{t("wa.credentials")}</h2>
        <p className="muted small">{t("wa.credentialsIntro")}</p>
        <form className="form" onSubmit={onSave} noValidate autoComplete="off">
          <ErrorAlert messages={alert} />
          {saved ? (
            <Alert kind="success" testId="wa-saved">
              {t("wa.saved")}
            </Alert>
          ) : null}
          <div className="form-grid">
            <Field id="wa_phone_number_id" label={t("wa.phoneNumberId")} value={form.phone_number_id} onChange={set("phone_number_id")} errors={fieldErrors.phone_number_id} data-testid="wa-phone-number-id" inputMode="numeric" />
            <Field id="wa_waba_id" label={t("wa.wabaId")} value={form.waba_id} onChange={set("waba_id")} errors={fieldErrors.waba_id} data-testid="wa-waba-id" inputMode="numeric" />
            <Field id="wa_display_number" label={t("wa.displayNumber")} value={form.display_phone_number} onChange={set("display_phone_number")} errors={fieldErrors.display_phone_number} data-testid="wa-display-number" placeholder="+62…" />
            <Field id="wa_verify_token" label={t("wa.verifyToken")} value={form.verify_token} onChange={set("verify_token")} errors={fieldErrors.verify_token} data-testid="wa-verify-token" />
            <Field
              id="wa_access_token"
              type="password"
              label={t("wa.accessToken")}
              value={form.access_token}
              onChange={set("access_token")}
              errors={fieldErrors.access_token}
              data-testid="wa-access-token"
              placeholder={stored}
              autoComplete="new-password"
              hint={account?.connected ? t("wa.keepSecret") : undefined}
            />
            <Field
              id="wa_app_secret"
              type="password"
              label={t("wa.appSecret")}
              value={form.app_secret}
              onChange={set("app_secret")}
              errors={fieldErrors.app_secret}
              data-testid="wa-app-secret"
              placeholder={stored}
              autoComplete="new-password"
              hint={account?.connected ? t("wa.keepSecret") : undefined}
            />
          </div>
          <div>
            <button type="submit" className="btn btn-primary" disabled={saving} data-testid="wa-save">
              {t("wa.save")}
            </button>
          </div>
        </form>
      </div>

      {account ? (
        <div className="card">
          <h2>{t("wa.webhook")}</h2>
          <p className="muted small">{t("wa.webhookIntro")}</p>
          <div className="stack-sm">
            <label className="label">{t("wa.webhookUrl")}</label>
            <CopyBox value={account.webhook_url || ""} testId="wa-webhook-url" label={t("wa.webhookUrl")} />
            <label className="label">{t("wa.verifyToken")}</label>
            <CopyBox value={account.verify_token || ""} testId="wa-verify-token-copy" label={t("wa.verifyToken")} />
          </div>
        </div>
      ) : null}

      <TemplatesCard canManage={canManage} />
    </div>
  );
}
