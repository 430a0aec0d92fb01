import { formatNumber } from "../../format";
import { useI18n, type I18nValue, type TKey } from "../../i18n";
import { useShop } from "../../session";
import { formatAmount } from "../settings/BillingPage";
import { percentDone, type BroadcastStatus, type Progress } from "./api";

const STATUS_KEYS: Record<BroadcastStatus, TKey> = {
  draft: "broadcasts.status.draft",
  scheduled: "broadcasts.status.scheduled",
  sending: "broadcasts.status.sending",
  paused: "broadcasts.status.paused",
  completed: "broadcasts.status.completed",
  cancelled: "broadcasts.status.cancelled",
  stopped: "broadcasts.status.stopped",
  active: "broadcasts.status.active",
  inactive: "broadcasts.status.inactive",
};

const STATUS_BADGE: Record<BroadcastStatus, string> = {
  draft: "badge-kind",
  scheduled: "badge-auto",
  sending: "badge-trial",
  paused: "badge-soon",
  completed: "badge-ok",
  cancelled: "badge-closed",
  stopped: "badge-danger",
  active: "badge-trial",
  inactive: "badge-soon",
};

export function StatusBadge({ status, testId }: { status: BroadcastStatus; testId?: string }) {
  const { t } = useI18n();
  return (
    <span className={`badge ${STATUS_BADGE[status] ?? "badge-kind"}`} data-testid={testId} data-status={status}>
      {STATUS_KEYS[status] ? t(STATUS_KEYS[status]) : status}
    </span>
  );
}

/** Sent + failed + skipped of the total, as a bar with its numbers for screen readers. */
export function ProgressBar({ progress, testId }: { progress: Pick<Progress, "sent" | "failed" | "skipped" | "total">; testId: string }) {
  const { t } = useI18n();
  const percent = percentDone(progress);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={t("broadcasts.progress.bar")}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
      data-testid={testId}
      data-percent={percent}
    >
      <div className="progress-bar" style={{ width: `${percent}%` }} />
    </div>
  );
}

/** Money in the shop's currency (or the one the server names) with the app's formatter: IDR without decimals. */
export function useMoney(): (value: string | number | null | undefined, currency?: string | null) => string {
  const { lang } = useI18n();
  const shop = useShop();
  return (value, currency) => formatAmount(value, currency || shop?.currency || "IDR", lang);
}

/** "1 min 05 s" / "45 s" / "2 h 10 min"; "—" when unknown. */
export function formatDuration(seconds: number | null | undefined, t: I18nValue["t"]): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  if (s < 60) return t("broadcasts.duration.seconds", { s });
  if (s < 3600) return t("broadcasts.duration.minutes", { m: Math.floor(s / 60), s: String(s % 60).padStart(2, "0") });
  return t("broadcasts.duration.hours", { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) });
}

export function useNumber(): (value: number | string | null | undefined) => string {
  const { lang } = useI18n();
  return (value) => formatNumber(value ?? 0, lang);
}
