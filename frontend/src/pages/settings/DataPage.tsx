import { useEffect, useState } from "react";
import { endpoints, type ShopExport } from "../../api";
import { redirectTo } from "../../browser";
import { Alert } from "../../components/Alert";
import { errorMessage, loadList } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { formatNumber } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useFormatDate, useSession } from "../../session";

/** How often a running export's progress is asked for. */
export const POLL_MS = 1500;

const UNFINISHED = new Set(["queued", "running"]);

/** 1536 → "1.5 KB": the size of an export file in the UI language. */
export function fileSize(bytes: number, lang: "id" | "en"): string {
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${formatNumber(value, lang)} ${units[unit]}`;
}

/** Settings > Data: the owner exports everything the shop holds and downloads it once ready. */
export function DataPage() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const isOwner = session?.role === "owner";
  const formatDate = useFormatDate();
  const [exports, setExports] = useState<ShopExport[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);

  useEffect(() => {
    if (!isOwner) return;
    return loadList(endpoints.shopExports(), setExports, setError, t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [isOwner]);

  const latest = exports?.[0] ?? null;
  const running = latest !== null && UNFINISHED.has(latest.status);

  useEffect(() => {
    if (!running || latest === null) return;
    const timer = window.setTimeout(() => {
      endpoints
        .shopExport(latest.id)
        .then((fresh) => setExports((list) => (list ?? []).map((x) => (x.id === fresh.id ? fresh : x))))
        .catch((err) => setError(errorMessage(err, t)));
    }, POLL_MS);
    return () => window.clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [running, latest]);

  if (!isOwner) {
    return (
      <Alert kind="info" testId="data-forbidden">
        {t("data.ownersOnly")}
      </Alert>
    );
  }

  async function onStart() {
    setStarting(true);
    setError(null);
    try {
      const started = await endpoints.startShopExport();
      setExports((list) => [started, ...(list ?? []).filter((x) => x.id !== started.id)]);
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setStarting(false);
    }
  }

  async function onDownload(item: ShopExport) {
    // Links work for a few minutes: ask for a fresh one at the moment of the click.
    setError(null);
    try {
      const fresh = await endpoints.shopExport(item.id);
      if (fresh.download_url) redirectTo(fresh.download_url);
      setExports((list) => (list ?? []).map((x) => (x.id === fresh.id ? fresh : x)));
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  return (
    <div className="stack">
      {error ? (
        <Alert kind="error" testId="data-error">
          {error}
        </Alert>
      ) : null}
      <div className="card">
        <h2>{t("data.title")}</h2>
        <p className="muted">{t("data.intro")}</p>
        <div className="stack">
          <button type="button" className="btn btn-primary" disabled={starting || running || exports === null} data-testid="data-export-start" onClick={() => void onStart()}>
            {t("data.start")}
          </button>
          {latest && running ? (
            <div className="stack" data-testid="data-export-running">
              <p>{t("data.preparing", { percent: latest.progress })}</p>
              <div className="progress" role="progressbar" aria-label={t("data.progress")} aria-valuemin={0} aria-valuemax={100} aria-valuenow={latest.progress}>
                <div className="progress-bar" style={{ width: `${latest.progress}%` }} />
              </div>
            </div>
          ) : null}
          {latest?.status === "ready" ? (
            <Alert kind="success" testId="data-export-ready">
              {t("data.ready", { size: fileSize(latest.file_size, lang), expires: formatDate(latest.expires_at) })}{" "}
              <button type="button" className="btn btn-secondary btn-sm" data-testid="data-export-download" onClick={() => void onDownload(latest)}>
                {t("data.download")}
              </button>
            </Alert>
          ) : null}
          {latest?.status === "failed" ? (
            <Alert kind="error" testId="data-export-failed">
              {t("data.failed", { error: latest.error })}
            </Alert>
          ) : null}
          <p className="muted">{t("data.restoreNote")}</p>
        </div>
      </div>

      <div className="card">
        <h2>{t("data.history")}</h2>
        {exports === null ? (
          <Spinner />
        ) : exports.length === 0 ? (
          <p className="muted">{t("data.empty")}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="data-exports-table">
              <thead>
                <tr>
                  <th>{t("data.requested")}</th>
                  <th>{t("data.by")}</th>
                  <th>{t("data.status")}</th>
                  <th>{t("data.size")}</th>
                </tr>
              </thead>
              <tbody>
                {exports.map((item) => (
                  <tr key={item.id} data-testid={`data-export-row-${item.id}`}>
                    <td data-label={t("data.requested")}>{formatDate(item.created_at)}</td>
                    <td data-label={t("data.by")}>{item.requested_by ?? "—"}</td>
                    <td data-label={t("data.status")}>{t(`data.status.${item.status}` as TKey)}</td>
                    <td data-label={t("data.size")}>{item.status === "ready" ? fileSize(item.file_size, lang) : "—"}</td>
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
