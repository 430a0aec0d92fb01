import { useState } from "react";
import { Alert } from "../../components/Alert";
import { Modal } from "../../components/Modal";
import { useI18n } from "../../i18n";
import { ImportFileInput, ImportLineErrors, ImportMappingTable, ImportProgressBar, isImportFinished, useContactImport } from "./importJob";

/** Upload a CSV/XLSX → map its columns → start → poll progress → summary and per-line errors. */
export function ImportDialog({ onClose, onFinished }: { onClose: () => void; onFinished: () => void }) {
  const { t } = useI18n();
  const job = useContactImport(() => onFinished());
  const { upload, status } = job;
  const [updateExisting, setUpdateExisting] = useState(true);
  const finished = isImportFinished(status);

  return (
    <Modal title={t("import.title")} onClose={onClose} testId="import-dialog" wide>
      {job.error ? (
        <Alert kind="error" testId="import-error">
          {job.error}
        </Alert>
      ) : null}
      {!upload ? (
        <div className="stack-sm">
          <p className="muted small">{t("import.intro")}</p>
          <ImportFileInput id="import_file" uploading={job.uploading} onFile={(file) => void job.chooseFile(file)} />
        </div>
      ) : status === null ? (
        <div className="stack-sm">
          <p className="small">
            <strong>{upload.filename}</strong> · {t("import.mappingIntro")}
          </p>
          <ImportMappingTable upload={upload} mapping={job.mapping} onChange={job.setMapping} />
          <label className="checkbox">
            <input type="checkbox" checked={updateExisting} onChange={(e) => setUpdateExisting(e.target.checked)} data-testid="import-update-existing" />
            {t("import.updateExisting")}
          </label>
          <div className="button-row">
            <button type="button" className="btn btn-primary" disabled={job.starting} onClick={() => void job.start({ updateExisting })} data-testid="import-start">
              {t("import.start")}
            </button>
            <button type="button" className="btn btn-ghost" onClick={onClose}>
              {t("common.cancel")}
            </button>
          </div>
        </div>
      ) : (
        <div className="stack-sm">
          <ImportProgressBar status={status} />
          <p className="small" data-testid="import-counts">
            {t("import.processed", { done: status.processed_rows, total: status.total_rows })}
            {finished ? ` · ${t("import.summary", { created: status.created_count, updated: status.updated_count, failed: status.failed_count })}` : null}
          </p>
          {status.status === "done" ? <Alert kind="success">{t("import.done")}</Alert> : null}
          {status.status === "failed" ? <Alert kind="error">{t("import.failed")}</Alert> : null}
          {finished ? <ImportLineErrors status={status} /> : null}
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
