import { useEffect, useRef, useState } from "react";
import { endpoints, type ImportStatus, type ImportUpload } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Modal } from "../../components/Modal";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";

export const IMPORT_POLL_MS = 500;

function cellText(cell: unknown): string {
  return cell === null || cell === undefined ? "" : String(cell);
}

/** Upload a CSV/XLSX → map its columns → start → poll progress → summary and per-line errors. */
export function ImportDialog({ onClose, onFinished }: { onClose: () => void; onFinished: () => void }) {
  const { t } = useI18n();
  const [uploading, setUploading] = useState(false);
  const [upload, setUpload] = useState<ImportUpload | null>(null);
  const [mapping, setMapping] = useState<Record<string, string | null>>({});
  const [updateExisting, setUpdateExisting] = useState(true);
  const [status, setStatus] = useState<ImportStatus | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const alive = useRef(true);
  const onFinishedRef = useRef(onFinished);
  onFinishedRef.current = onFinished;

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  // Poll while the import runs.
  const importId = status?.id ?? null;
  const running = status !== null && (status.status === "running" || status.status === "uploaded");
  useEffect(() => {
    if (importId === null || !running) return;
    const timer = window.setTimeout(async () => {
      try {
        const next = await endpoints.importStatus(importId);
        if (!alive.current) return;
        setStatus(next);
        if (next.status === "done" || next.status === "failed") onFinishedRef.current();
      } catch (err) {
        if (alive.current) setError(errorMessage(err, t));
      }
    }, IMPORT_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [importId, running, status, t]);

  async function onFile(file: File | undefined) {
    if (!file) return;
    setUploading(true);
    setError(null);
    try {
      const data = await endpoints.uploadImport(file);
      setUpload(data);
      const initial: Record<string, string | null> = {};
      for (const col of data.columns) initial[col] = data.suggested_mapping?.[col] ?? null;
      setMapping(initial);
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setUploading(false);
    }
  }

  async function start() {
    if (!upload) return;
    setStarting(true);
    setError(null);
    try {
      const res = await endpoints.startImport(upload.id, mapping, updateExisting);
      setStatus({
        id: res.id ?? upload.id,
        status: res.status ?? "running",
        total_rows: 0,
        processed_rows: 0,
        created_count: 0,
        updated_count: 0,
        failed_count: 0,
        errors: [],
        finished_at: null,
      });
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setStarting(false);
    }
  }

  const finished = status !== null && (status.status === "done" || status.status === "failed");
  const percent = status && status.total_rows > 0 ? Math.min(100, Math.round((status.processed_rows / status.total_rows) * 100)) : finished ? 100 : 0;

  return (
    <Modal title={t("import.title")} onClose={onClose} testId="import-dialog" wide>
      {error ? (
        <Alert kind="error" testId="import-error">
          {error}
        </Alert>
      ) : null}
      {!upload ? (
        <div className="stack-sm">
          <p className="muted small">{t("import.intro")}</p>
          <div className="field">
            <label htmlFor="import_file">{t("import.file")}</label>
            <input
              id="import_file"
              type="file"
              accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
              disabled={uploading}
              onChange={(e) => void onFile(e.target.files?.[0])}
              data-testid="import-file"
            />
          </div>
          {uploading ? <Spinner /> : null}
        </div>
      ) : status === null ? (
        <div className="stack-sm">
          <p className="small">
            <strong>{upload.filename}</strong> · {t("import.mappingIntro")}
          </p>
          <div className="table-wrap">
            <table className="table" data-testid="import-mapping">
              <thead>
                <tr>
                  <th>{t("import.column")}</th>
                  <th>{t("import.sample")}</th>
                  <th>{t("import.field")}</th>
                </tr>
              </thead>
              <tbody>
                {upload.columns.map((col, i) => (
                  <tr key={col}>
                    <td data-label={t("import.column")}>
                      <strong>{col}</strong>
                    </td>
                    <td data-label={t("import.sample")} className="muted small">
                      {upload.preview
                        .slice(0, 3)
                        .map((row) => cellText(row[i]))
                        .filter(Boolean)
                        .join(", ")}
                    </td>
                    <td data-label={t("import.field")}>
                      <select
                        aria-label={t("import.fieldFor", { column: col })}
                        value={mapping[col] ?? ""}
                        onChange={(e) => setMapping((m) => ({ ...m, [col]: e.target.value || null }))}
                        data-testid={`import-mapping-${col}`}
                      >
                        <option value="">{t("import.skip")}</option>
                        {upload.fields.map((f) => (
                          <option key={f.key} value={f.key}>
                            {f.label}
                          </option>
                        ))}
                      </select>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <label className="checkbox">
            <input type="checkbox" checked={updateExisting} onChange={(e) => setUpdateExisting(e.target.checked)} data-testid="import-update-existing" />
            {t("import.updateExisting")}
          </label>
          <div className="button-row">
            <button type="button" className="btn btn-primary" disabled={starting} onClick={() => void start()} data-testid="import-start">
              {t("import.start")}
            </button>
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              {t("common.cancel")}
            </button>
          </div>
        </div>
      ) : (
        <div className="stack-sm">
          <div
            className="progress"
            role="progressbar"
            aria-label={t("import.progress")}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            data-testid="import-progress"
            data-status={status.status}
          >
            <div className="progress-bar" style={{ width: `${percent}%` }} />
          </div>
          <p className="small" data-testid="import-counts">
            {t("import.processed", { done: status.processed_rows, total: status.total_rows })}
            {finished ? ` · ${t("import.summary", { created: status.created_count, updated: status.updated_count, failed: status.failed_count })}` : null}
          </p>
          {status.status === "done" ? <Alert kind="success">{t("import.done")}</Alert> : null}
          {status.status === "failed" ? <Alert kind="error">{t("import.failed")}</Alert> : null}
          {finished && status.errors.length ? (
            <div>
              <h3 className="subhead">{t("import.errors")}</h3>
              <div className="table-wrap">
                <table className="table" data-testid="import-errors">
                  <thead>
                    <tr>
                      <th>{t("import.line")}</th>
                      <th>{t("import.reason")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {status.errors.map((e, i) => (
                      <tr key={i} data-testid="import-error-row">
                        <td data-label={t("import.line")}>{e.line}</td>
                        <td data-label={t("import.reason")}>{e.reason}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </div>
          ) : null}
          {finished ? (
            <div className="button-row">
              <button type="button" className="btn btn-primary" onClick={onClose} data-testid="import-close">
                {t("common.close")}
              </button>
            </div>
          ) : null}
        </div>
      )}
    </Modal>
  );
}
