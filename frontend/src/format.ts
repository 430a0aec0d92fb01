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

/** Offset (ms) of `timeZone` from UTC at the given instant. */
function zoneOffset(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour") % 24, get("minute"), get("second"));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/**
 * Converts a wall-clock "YYYY-MM-DDTHH:mm" (e.g. from <input type="datetime-local">) in the shop's
 * time zone to an ISO 8601 UTC string. Returns null for an empty/invalid value.
 */
export function zonedToIso(local: string, timeZone: string | null | undefined): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  let tz = timeZone || DEFAULT_TIMEZONE;
  try {
    zoneOffset(wall, tz);
  } catch {
    tz = DEFAULT_TIMEZONE;
  }
  let guess = wall - zoneOffset(wall, tz);
  guess = wall - zoneOffset(guess, tz);
  return new Date(guess).toISOString();
}

/* ---------- Money, percentages and calendar dates ---------- */

const idr = new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 });

/** Integer rupiah ("Rp 305.000"); accepts DRF decimal strings; empty for null/invalid. */
export function formatMoney(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  return Number.isFinite(n) ? idr.format(n) : String(value);
}

/** A ratio ("0.2500" or 0.25) as a percentage ("25%"); "—" when missing. */
export function formatRate(value: number | string | null | undefined, lang: Lang, digits = 1): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (!Number.isFinite(n)) return "—";
  return new Intl.NumberFormat(LOCALES[lang], { style: "percent", maximumFractionDigits: digits }).format(n);
}

/** Plain number with the UI language's grouping. */
export function formatNumber(value: number | string | null | undefined, lang: Lang): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return Number.isFinite(n) ? new Intl.NumberFormat(LOCALES[lang], { maximumFractionDigits: 1 }).format(n) : String(value);
}

/** Today's calendar date ("YYYY-MM-DD") in the shop's time zone. */
export function todayYmd(timeZone: string | null | undefined, now: number = Date.now()): string {
  const fmt = (tz: string) => new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(now));
  try {
    return fmt(timeZone || DEFAULT_TIMEZONE);
  } catch {
    return fmt(DEFAULT_TIMEZONE);
  }
}

/** Adds (or subtracts) whole days to a "YYYY-MM-DD" date. */
export function shiftYmd(ymd: string, days: number): string {
  const [y, m, d] = ymd.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A calendar date ("YYYY-MM-DD", no time zone) as "1 Mei 2024" / "1 May 2024". */
export function formatYmd(ymd: string | null | undefined, lang: Lang, options: Intl.DateTimeFormatOptions = { dateStyle: "medium" }): string {
  if (!ymd) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(ymd);
  if (!m) return ymd;
  return new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone: "UTC" }).format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
}
