import { useState } from "react";
import type { ImportStatus } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { useI18n, type I18nValue } from "../../i18n";
import { ImportFileInput, ImportLineErrors, ImportMappingTable, ImportProgressBar, useContactImport } from "../contacts/importJob";
import { broadcastApi, type BroadcastOptions } from "./api";

/** The API's limit for a label name (the import's `label_all`). */
export const LABEL_MAX_CHARS = 40;

/** "Broadcast: <name>", cut to the 40 characters a label may have (counted as the server counts them, by code point). */
export function uploadLabelName(broadcastName: string, t: I18nValue["t"]): string {
  const name = broadcastName.trim().replace(/\s+/g, " ");
  if (!name) return "";
  return Array.from(t("broadcasts.compose.upload.labelName", { name }))
    .slice(0, LABEL_MAX_CHARS)
    .join("")
    .trim();
}

/** The label the import created or reused: the server matches label names without case. */
function findLabel(options: BroadcastOptions, name: string): number | null {
  const wanted = name.toLocaleLowerCase();
  return options.labels.find((l) => l.name.toLocaleLowerCase() === wanted)?.id ?? null;
}

/**
 * A CSV/XLSX of numbers as audience: imported as contacts (existing ones updated), each labelled after the
 * broadcast, and that label joins the audience. `onLabel` gets the fresh options (with the label) and its id.
 */
export function AudienceUpload({ broadcastName, onLabel }: { broadcastName: string; onLabel: (options: BroadcastOptions, labelId: number) => void }) {
  const { t } = useI18n();
  const labelName = uploadLabelName(broadcastName, t);
  // The label is fixed when the import starts; renaming the broadcast afterwards does not change it.
  const [startedLabel, setStartedLabel] = useState("");
  const [labelError, setLabelError] = useState<string | null>(null);
  const [added, setAdded] = useState(false);
  const job = useContactImport((status: ImportStatus) => {
    if (status.status !== "done" || status.created_count + status.updated_count === 0) return;
    broadcastApi.options().then(
      (options) => {
        const labelId = findLabel(options, startedLabel);
        if (labelId === null) return;
        onLabel(options, labelId);
        setAdded(true);
      },
      (err) => setLabelError(errorMessage(err, t)),
    );
  });
  const { upload, status } = job;

  function start() {
    setStartedLabel(labelName);
    setAdded(false);
    setLabelError(null);
    void job.start({ updateExisting: true, labelAll: labelName });
  }

  return (
    <fieldset className="fieldset field stack-sm" data-testid="audience-upload">
      <legend className="label">{t("broadcasts.compose.upload.title")}</legend>
      {job.error ? (
        <Alert kind="error" testId="audience-upload-error">
          {job.error}
        </Alert>
      ) : null}
      {!upload ? (
        <>
          <p className="muted small">{t("broadcasts.compose.upload.intro")}</p>
          <ImportFileInput id="audience-upload-file" uploading={job.uploading} onFile={(file) => void job.chooseFile(file)} />
        </>
      ) : status === null ? (
        <>
          <p className="small">
            <strong>{upload.filename}</strong> · {t("import.mappingIntro")}
          </p>
          <ImportMappingTable upload={upload} mapping={job.mapping} onChange={job.setMapping} />
          <p className="muted small" data-testid="audience-upload-label">
            {labelName ? t("broadcasts.compose.upload.labelNote", { label: labelName }) : t("broadcasts.compose.upload.nameFirst")}
          </p>
          <div className="button-row">
            <button type="button" className="btn btn-primary" disabled={job.starting || !labelName} onClick={start} data-testid="import-start">
              {t("broadcasts.compose.upload.start")}
            </button>
            <button type="button" className="btn btn-ghost" onClick={job.reset}>
              {t("common.cancel")}
            </button>
          </div>
        </>
      ) : (
        <>
          <ImportProgressBar status={status} />
          {status.status === "running" || status.status === "uploaded" ? (
            <p className="small">{t("import.processed", { done: status.processed_rows, total: status.total_rows })}</p>
          ) : (
            <>
              {status.status === "failed" ? <Alert kind="error">{t("import.failed")}</Alert> : null}
              <p className="small" data-testid="audience-upload-summary">
                {t("broadcasts.compose.upload.summary", { imported: status.created_count + status.updated_count, failed: status.failed_count })}
              </p>
              {added ? (
                <Alert kind="success" testId="audience-upload-added">
                  {t("broadcasts.compose.upload.added", { label: startedLabel })}
                </Alert>
              ) : null}
              {labelError ? (
                <Alert kind="error" testId="audience-upload-error">
                  {labelError}
                </Alert>
              ) : null}
              <ImportLineErrors status={status} />
              <div className="button-row">
                <button type="button" className="btn btn-secondary btn-sm" onClick={job.reset} data-testid="audience-upload-another">
                  {t("broadcasts.compose.upload.another")}
                </button>
              </div>
            </>
          )}
        </>
      )}
    </fieldset>
  );
}
