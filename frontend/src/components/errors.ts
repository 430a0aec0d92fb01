import { ApiError, type FieldErrors } from "../api";
import type { I18nValue } from "../i18n";

export interface SplitErrors {
  fields: FieldErrors;
  alert: string[];
}

/**
 * Splits an error into messages for known form fields (shown under each field) and
 * messages for the alert box (detail, non_field_errors, errors on unknown fields).
 */
export function splitErrors(err: unknown, knownFields: readonly string[], t: I18nValue["t"]): SplitErrors {
  if (!(err instanceof ApiError)) return { fields: {}, alert: [t("error.generic")] };
  const fields: FieldErrors = {};
  const alert: string[] = [];
  if (err.detail) alert.push(err.detail);
  for (const [key, messages] of Object.entries(err.fieldErrors)) {
    if (knownFields.includes(key)) fields[key] = messages;
    else alert.push(...messages);
  }
  if (alert.length === 0 && Object.keys(fields).length === 0) {
    alert.push(errorMessage(err, t));
  }
  return { fields, alert };
}

/** A single human message for an error (for alerts outside forms). */
export function errorMessage(err: unknown, t: I18nValue["t"]): string {
  if (err instanceof ApiError) {
    if (err.status === 0) return t("error.network");
    if (err.detail) return err.detail;
    const all = Object.values(err.fieldErrors).flat();
    if (all.length) return all.join(" ");
    if (err.status === 403) return t("error.forbidden");
  }
  return t("error.generic");
}

/**
 * Loads a list into state for an effect: a failure shows as an empty list plus its message, and a
 * response arriving after unmount is dropped. Returns the effect's cleanup.
 */
export function loadList<T>(
  request: Promise<T[]>,
  setList: (list: T[]) => void,
  setError: (message: string) => void,
  t: I18nValue["t"],
): () => void {
  let cancelled = false;
  request
    .then((list) => {
      if (!cancelled) setList(list);
    })
    .catch((err) => {
      if (cancelled) return;
      setList([]);
      setError(errorMessage(err, t));
    });
  return () => {
    cancelled = true;
  };
}
