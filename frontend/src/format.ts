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

function safeFormat(date: Date, locale: string, options: Intl.DateTimeFormatOptions, timeZone: string | null | undefined): string {
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: timeZone || DEFAULT_TIMEZONE }).format(date);
  } catch {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone: DEFAULT_TIMEZONE }).format(date);
  }
}

function parse(iso: string | null | undefined): Date | null {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Time of day only ("14:05" / "14.05") in the shop's time zone. */
export function formatTime(iso: string | null | undefined, timeZone: string | null | undefined, lang: Lang): string {
  const date = parse(iso);
  if (!date) return iso ?? "";
  return safeFormat(date, LOCALES[lang], { timeStyle: "short" }, timeZone);
}

/** Date only ("16 Jan 2024") in the shop's time zone. */
export function formatDateOnly(iso: string | null | undefined, timeZone: string | null | undefined, lang: Lang): string {
  const date = parse(iso);
  if (!date) return iso ?? "";
  return safeFormat(date, LOCALES[lang], { dateStyle: "medium" }, timeZone);
}

/**
 * Short relative time for lists: "now", "5 min ago", "3 hr ago" within a day,
 * otherwise the date in the shop's time zone.
 */
export function formatRelative(
  iso: string | null | undefined,
  timeZone: string | null | undefined,
  lang: Lang,
  now: number = Date.now(),
): string {
  const date = parse(iso);
  if (!date) return iso ?? "";
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  const rtf = new Intl.RelativeTimeFormat(LOCALES[lang], { numeric: "auto", style: "short" });
  if (abs < 60) return rtf.format(0, "second");
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return safeFormat(date, LOCALES[lang], { day: "numeric", month: "short", year: "2-digit" }, timeZone);
}

/** Minutes from now until `iso` (negative when in the past); null when missing/invalid. */
export function minutesUntil(iso: string | null | undefined, now: number = Date.now()): number | null {
  const date = parse(iso);
  if (!date) return null;
  return Math.floor((date.getTime() - now) / 60000);
}
