import { useEffect, useState } from "react";
import { endpoints, type AuditPage } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { useI18n, type TKey } from "../../i18n";
import { useFormatDate, useSession } from "../../session";

/** Details worth a glance, in the order a reader looks for them; anything else stays in the console. */
const DETAIL_KEYS = ["email", "name", "from", "to", "role", "changed", "recipients", "reason", "due_at"];

function describeDetails(details: Record<string, unknown>): string {
  return DETAIL_KEYS.filter((key) => details[key] !== undefined && details[key] !== null && details[key] !== "")
    .map((key) => `${key}: ${Array.isArray(details[key]) ? (details[key] as unknown[]).join(", ") : String(details[key])}`)
    .join(" · ");
}

/** Settings > Audit log: this shop's sensitive actions, newest first, fifty a page (owners and admins). */
export function AuditLogPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const formatDate = useFormatDate();
  const [page, setPage] = useState(1);
  const [data, setData] = useState<AuditPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!canManage) return;
    let cancelled = false;
    setData(null);
    setError(null);
    endpoints.auditLog(page).then(
      (body) => !cancelled && setData(body),
      (err) => !cancelled && setError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [page, canManage]);

  if (!canManage) {
    return (
      <Alert kind="info" testId="audit-forbidden">
        {t("audit.forbidden")}
      </Alert>
    );
  }

  const actionLabel = (action: string) => {
    const key = `audit.action.${action}` as TKey;
    const label = t(key);
    return label === key ? action : label;
  };

  return (
    <div className="card" data-testid="audit-log">
      <h2>{t("audit.title")}</h2>
      <p className="muted">{t("audit.intro")}</p>
      {error ? (
        <Alert kind="error" testId="audit-error">
          {error}
        </Alert>
      ) : data === null ? (
        <Spinner />
      ) : data.results.length === 0 ? (
        <p className="muted" data-testid="audit-empty">
          {t("audit.empty")}
        </p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th>{t("audit.when")}</th>
                  <th>{t("audit.who")}</th>
                  <th>{t("audit.what")}</th>
                  <th>{t("audit.details")}</th>
                  <th>{t("audit.ip")}</th>
                </tr>
              </thead>
              <tbody>
                {data.results.map((event) => (
                  <tr key={event.id} data-testid={`audit-row-${event.id}`}>
                    <td>{formatDate(event.created_at)}</td>
                    <td>{event.actor_email || t("audit.platform")}</td>
                    <td>
                      {actionLabel(event.action)}
                      {event.target ? <div className="muted small">{event.target}</div> : null}
                    </td>
                    <td className="small">{describeDetails(event.details)}</td>
                    <td className="muted small">{event.ip ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="button-row">
            <button type="button" className="btn btn-ghost btn-sm" disabled={!data.previous} onClick={() => setPage((p) => p - 1)} data-testid="audit-newer">
              {t("audit.newer")}
            </button>
            <span className="muted small">{t("audit.page", { page: String(page) })}</span>
            <button type="button" className="btn btn-ghost btn-sm" disabled={!data.next} onClick={() => setPage((p) => p + 1)} data-testid="audit-older">
              {t("audit.older")}
            </button>
          </div>
        </>
      )}
    </div>
  );
}
