import { useEffect, useRef, useState } from "react";
import { endpoints, type ImportStatus, type ImportUpload } from "../../api";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { useI18n } from "../../i18n";

/* One contact import (upload → map columns → start → poll → per-line report), shared by the Contacts
   page's import dialog and the broadcast composer's uploaded audience. */

export const IMPORT_POLL_MS = 500;

export const IMPORT_ACCEPT = ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

export type ImportMapping = Record<string, string | null>;

export function isImportFinished(status: ImportStatus | null): boolean {
  return status !== null && (status.status === "done" || status.status === "failed");
}

/** The import job's state and steps; `onFinished` gets the final status once, when it is done or failed. */
export function useContactImport(onFinished: (status: ImportStatus) => void) {
  const { t } = useI18n();
  const [uploading, setUploading] = useState(false);
  const [upload, setUpload] = useState<ImportUpload | null>(null);
  const [mapping, setMapping] = useState<ImportMapping>({});
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
        if (isImportFinished(next)) onFinishedRef.current(next);
      } catch (err) {
        if (alive.current) setError(errorMessage(err, t));
      }
    }, IMPORT_POLL_MS);
    return () => window.clearTimeout(timer);
  }, [importId, running, status, t]);

  async function chooseFile(file: File | undefined) {
    if (!file) return;
    setUploading(true);
    setError(null);
    try {
      const data = await endpoints.uploadImport(file);
      if (!alive.current) return;
      setUpload(data);
      const initial: ImportMapping = {};
      for (const col of data.columns) initial[col] = data.suggested_mapping?.[col] ?? null;
      setMapping(initial);
    } catch (err) {
      if (alive.current) setError(errorMessage(err, t));
    } finally {
      if (alive.current) setUploading(false);
    }
  }

  async function start(options: { updateExisting: boolean; labelAll?: string }) {
    if (!upload) return;
    setStarting(true);
    setError(null);
    try {
      const res = await endpoints.startImport(upload.id, mapping, options.updateExisting, options.labelAll);
      if (!alive.current) return;
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
      if (alive.current) setError(errorMessage(err, t));
    } finally {
      if (alive.current) setStarting(false);
    }
  }

  /** Back to choosing a file, for another list. */
  function reset() {
    setUpload(null);
    setMapping({});
    setStatus(null);
    setError(null);
  }

  return { uploading, upload, mapping, setMapping, status, starting, error, chooseFile, start, reset };
}

export function ImportFileInput({ id, disabled, uploading, onFile }: { id: string; disabled?: boolean; uploading: boolean; onFile: (file: File | undefined) => void }) {
  const { t } = useI18n();
  return (
    <>
      <div className="field">
        <label htmlFor={id}>{t("import.file")}</label>
        <input id={id} type="file" accept={IMPORT_ACCEPT} disabled={disabled || uploading} onChange={(e) => onFile(e.target.files?.[0])} data-testid="import-file" />
      </div>
      {uploading ? <Spinner /> : null}
    </>
  );
}

function cellText(cell: unknown): string {
  return cell === null || cell === undefined ? "" : String(cell);
}

/** Each column of the upload with a few sample values and the contact field it goes to. */
export function ImportMappingTable({ upload, mapping, onChange }: { upload: ImportUpload; mapping: ImportMapping; onChange: (mapping: ImportMapping) => void }) {
  const { t } = useI18n();
  return (
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
                  onChange={(e) => onChange({ ...mapping, [col]: e.target.value || null })}
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
  );
}

/** The running import's bar: rows processed of the total. */
export function ImportProgressBar({ status }: { status: ImportStatus }) {
  const { t } = useI18n();
  const finished = isImportFinished(status);
  const percent = status.total_rows > 0 ? Math.min(100, Math.round((status.processed_rows / status.total_rows) * 100)) : finished ? 100 : 0;
  return (
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
  );
}

/** The lines that could not be imported, by line number, and how many more there are when the list is capped. */
export function ImportLineErrors({ status }: { status: ImportStatus }) {
  const { t } = useI18n();
  if (!status.errors.length && !status.errors_note) return null;
  return (
    <div>
      <h3 className="subhead">{t("import.errors")}</h3>
      {status.errors.length ? (
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
      ) : null}
      {status.errors_note ? (
        <p className="muted small" data-testid="import-errors-note">
          {status.errors_note}
        </p>
      ) : null}
    </div>
  );
}
