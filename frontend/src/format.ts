import type { Lang } from "./config";
import { DEFAULT_TIMEZONE } from "./config";
import { LOCALES } from "./i18n";

/** Formats an ISO 8601 (UTC) timestamp in the shop's time zone with the UI language's locale. */
export function formatDateTime(iso: string | null | undefined, timeZone: string | null | undefined, lang: Lang): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" };
  try {
    return new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone: timeZone || DEFAULT_TIMEZONE }).format(date);
  } catch {
    // Unknown time zone name: fall back to the default one.
    return new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone: DEFAULT_TIMEZONE }).format(date);
  }
}
