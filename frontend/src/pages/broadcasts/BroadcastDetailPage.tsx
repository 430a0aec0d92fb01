import { useCallback, useEffect, useRef, useState } from "react";
import { Link, Navigate, useParams } from "react-router-dom";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { formatNumber } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useBroadcastProgress } from "../../live";
import { useFormatters } from "../../session";
import { broadcastApi, isLive, isRecurring, processed, type Broadcast, type BroadcastStatus, type Progress } from "./api";
import { BroadcastResults, FailureTable } from "./BroadcastResults";
import { formatDuration, ProgressBar, StatusBadge, useNumber } from "./parts";

/** Progress is polled this often when no live event came for a while (stream down, no EventSource). */
export const PROGRESS_POLL_MS = 2000;

const COUNTS: { key: TKey; testId: string; value: (p: Progress) => number }[] = [
  { key: "broadcasts.progress.queued", testId: "progress-queued", value: (p) => (p.queued || 0) + (p.sending || 0) },
  { key: "broadcasts.progress.sent", testId: "progress-sent", value: (p) => p.sent || 0 },
  { key: "broadcasts.progress.delivered", testId: "progress-delivered", value: (p) => p.delivered || 0 },
  { key: "broadcasts.progress.read", testId: "progress-read", value: (p) => p.read || 0 },
  { key: "broadcasts.progress.failed", testId: "progress-failed", value: (p) => p.failed || 0 },
  { key: "broadcasts.progress.replied", testId: "progress-replied", value: (p) => p.replied || 0 },
  { key: "broadcasts.progress.skipped", testId: "progress-skipped", value: (p) => p.skipped || 0 },
];

/** A "broadcast.progress" event's data as a progress object (it is one, plus `broadcast_id`). */
function progressFromEvent(data: Record<string, unknown>, previous: Progress | null): Progress {
  return { failures: [], ...previous, ...data } as Progress;
}

function ProgressPanel({ progress }: { progress: Progress }) {
  const { t, lang } = useI18n();
  const num = useNumber();
  const live = isLive(progress.status);
  return (
    <div className="card stack" data-testid="broadcast-progress">
      <div className="card-head">
        <h2>{t("broadcasts.progress.title")}</h2>
        <span className="muted" data-testid="progress-done">
          {t("broadcasts.progress.done", { done: num(processed(progress)), total: num(progress.total) })}
        </span>
      </div>
      <ProgressBar progress={progress} testId="progress-bar" />
      {progress.status_reason && (progress.status === "paused" || progress.status === "stopped") ? (
        <Alert kind={progress.status === "stopped" ? "error" : "warning"} testId="progress-reason">
          {progress.status_reason}
        </Alert>
      ) : null}
      <div className="metric-strip">
        {COUNTS.map((c) => (
          <div className="metric" key={c.testId}>
            <span className="metric-label">{t(c.key)}</span>
            <strong className="metric-value" data-testid={c.testId}>
              {num(c.value(progress))}
            </strong>
          </div>
        ))}
      </div>
      {/* Once it has ended, the results below say the rest (failures with their recipients). */}
      {live ? (
        <>
          <dl className="kv">
            <dt>{t("broadcasts.progress.rate")}</dt>
            <dd data-testid="progress-rate">{progress.rate_per_s != null ? t("broadcasts.progress.perSecond", { n: formatNumber(progress.rate_per_s, lang) }) : "—"}</dd>
            <dt>{t("broadcasts.progress.eta")}</dt>
            <dd data-testid="progress-eta">{progress.status === "paused" ? t("broadcasts.status.paused") : formatDuration(progress.eta_s, t)}</dd>
          </dl>
          <h3 className="subhead">{t("broadcasts.results.failures")}</h3>
          <FailureTable failures={progress.failures ?? []} testId="progress-failures" />
        </>
      ) : null}
    </div>
  );
}

/** How a repeating or triggered broadcast runs, in words: "Every week", "3 days after an order". */
function scheduleText(b: Broadcast, t: ReturnType<typeof useI18n>["t"]): string {
  if (b.repeat) return t(`broadcasts.compose.repeat.${b.repeat}` as TKey);
  if (b.trigger === "days_after_order") return t("broadcasts.detail.everyDays", { n: b.trigger_days });
  if (b.trigger === "cart_left") return t("broadcasts.detail.afterHours", { n: b.trigger_hours });
  return t("broadcasts.compose.trigger.birthday");
}

/** A repeating or triggered broadcast: when it runs, why its last run did not go, and each send it made. */
function RecurringPanel({ broadcast }: { broadcast: Broadcast }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const num = useNumber();
  const occurrences = broadcast.occurrences ?? [];
  return (
    <>
      {broadcast.status_reason ? (
        <Alert kind="warning" testId="recurring-reason">
          {broadcast.status_reason}
        </Alert>
      ) : null}
      <div className="card">
        <dl className="kv">
          <dt>{t("broadcasts.compose.template")}</dt>
          <dd>{broadcast.template?.name}</dd>
          <dt>{t("broadcasts.compose.schedule")}</dt>
          <dd data-testid="recurring-schedule">{scheduleText(broadcast, t)}</dd>
          {broadcast.status === "active" && broadcast.next_run_at ? (
            <>
              <dt>{t("broadcasts.detail.nextRun")}</dt>
              <dd data-testid="recurring-next-run">{fmt.dateTime(broadcast.next_run_at)}</dd>
            </>
          ) : null}
        </dl>
      </div>
      <div className="card stack">
        <h2>{t("broadcasts.detail.occurrences")}</h2>
        {occurrences.length === 0 ? (
          <p className="muted" data-testid="occurrences-empty">
            {t("broadcasts.detail.noOccurrences")}
          </p>
        ) : (
          <table className="table" data-testid="occurrences">
            <thead>
              <tr>
                <th>{t("broadcasts.detail.startedAt")}</th>
                <th>{t("broadcasts.detail.recipients")}</th>
                <th>{t("broadcasts.col.status")}</th>
              </tr>
            </thead>
            <tbody>
              {occurrences.map((o) => (
                <tr key={o.id} data-testid={`occurrence-${o.id}`}>
                  <td>
                    <Link to={`/broadcasts/${o.id}`} data-testid={`occurrence-link-${o.id}`}>
                      {o.started_at ? fmt.dateTime(o.started_at) : o.name}
                    </Link>
                  </td>
                  <td>{num(o.recipients)}</td>
                  <td>
                    <StatusBadge status={o.status} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </>
  );
}

export function BroadcastDetailPage() {
  const { broadcastId } = useParams();
  const id = Number(broadcastId);
  const { t } = useI18n();
  const fmt = useFormatters();
  const num = useNumber();
  const [broadcast, setBroadcast] = useState<Broadcast | null>(null);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const lastEventAt = useRef(0);

  useEffect(() => {
    let cancelled = false;
    setBroadcast(null);
    setProgress(null);
    broadcastApi.get(id).then(
      (b) => !cancelled && setBroadcast(b),
      (err) => !cancelled && setError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
    };
  }, [id, t]);

  const status: BroadcastStatus | null = progress?.status ?? broadcast?.status ?? null;
  const recurring = broadcast !== null && isRecurring(broadcast);
  // A repeating or triggered broadcast never sends itself: its occurrences have the progress and results.
  const started = status !== null && status !== "draft" && status !== "scheduled" && !recurring;
  const live = status !== null && isLive(status);

  const loadProgress = useCallback(() => {
    return broadcastApi.progress(id).then(
      (p) => setProgress(p),
      () => {},
    );
  }, [id]);

  // Live events first; progress/ is read once at the start and then only while no event arrives.
  useBroadcastProgress((data) => {
    if (Number(data.broadcast_id) !== id) return;
    lastEventAt.current = Date.now();
    setProgress((old) => progressFromEvent(data, old));
  });

  useEffect(() => {
    if (!started) return;
    void loadProgress();
  }, [started, loadProgress]);

  useEffect(() => {
    if (!live) return;
    const timer = window.setInterval(() => {
      if (Date.now() - lastEventAt.current >= PROGRESS_POLL_MS) void loadProgress();
    }, PROGRESS_POLL_MS);
    return () => window.clearInterval(timer);
  }, [live, loadProgress]);

  // Keep the broadcast's own status in step with what the progress says (finished, paused, stopped).
  useEffect(() => {
    if (!progress || !broadcast || progress.status === broadcast.status) return;
    broadcastApi.get(id).then(setBroadcast, () => {});
  }, [progress?.status, broadcast?.status, id]); // eslint-disable-line react-hooks/exhaustive-deps

  async function act(action: "pause" | "resume" | "cancel") {
    if (action === "cancel" && !window.confirm(t("broadcasts.detail.confirmCancel"))) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await broadcastApi[action](id);
      setBroadcast(updated);
      setProgress((old) => (old ? { ...old, status: updated.status, status_reason: updated.status_reason } : old));
      if (isLive(updated.status) || updated.status === "cancelled") void loadProgress();
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  }

  if (error && !broadcast) return <Alert kind="error">{error}</Alert>;
  if (!broadcast || status === null) return <Spinner />;
  if (status === "draft") return <Navigate to={`/broadcasts/${id}/edit`} replace />;

  return (
    <section className="page stack">
      <Link className="back-link" to="/broadcasts">
        ← {t("nav.broadcasts")}
      </Link>
      <header className="page-header">
        <h1>{broadcast.name}</h1>
        <StatusBadge status={status} testId="broadcast-status" />
        <div className="header-actions">
          {status === "active" ? (
            <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => void act("pause")} data-testid="broadcast-pause">
              {t("broadcasts.detail.pause")}
            </button>
          ) : null}
          {status === "inactive" ? (
            <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void act("resume")} data-testid="broadcast-resume">
              {t("broadcasts.detail.resume")}
            </button>
          ) : null}
          {recurring && (status === "active" || status === "inactive") ? (
            <Link className="btn btn-secondary" to={`/broadcasts/${id}/edit`} data-testid="broadcast-edit">
              {t("broadcasts.review.edit")}
            </Link>
          ) : null}
          {status === "sending" ? (
            <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => void act("pause")} data-testid="broadcast-pause">
              {t("broadcasts.detail.pause")}
            </button>
          ) : null}
          {status === "paused" ? (
            <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void act("resume")} data-testid="broadcast-resume">
              {t("broadcasts.detail.resume")}
            </button>
          ) : null}
          {status === "scheduled" ? (
            <Link className="btn btn-secondary" to={`/broadcasts/${id}/edit`} data-testid="broadcast-edit">
              {t("broadcasts.review.edit")}
            </Link>
          ) : null}
          {live || status === "scheduled" || status === "active" || status === "inactive" ? (
            <button type="button" className="btn btn-danger-ghost" disabled={busy} onClick={() => void act("cancel")} data-testid="broadcast-cancel">
              {t("broadcasts.detail.cancel")}
            </button>
          ) : null}
        </div>
      </header>
      {error ? <Alert kind="error">{error}</Alert> : null}
      {broadcast.parent ? (
        <Link to={`/broadcasts/${broadcast.parent}`} data-testid="broadcast-parent">
          {t("broadcasts.detail.occurrences")}
        </Link>
      ) : null}
      {recurring ? (
        <RecurringPanel broadcast={broadcast} />
      ) : (
        <div className="card">
          <dl className="kv">
            <dt>{t("broadcasts.compose.template")}</dt>
            <dd>{broadcast.template?.name}</dd>
            <dt>{t("broadcasts.col.audience")}</dt>
            <dd data-testid="broadcast-audience">{num(progress?.total || broadcast.recipient_count)}</dd>
            {broadcast.scheduled_at ? (
              <>
                <dt>{t("broadcasts.detail.scheduledAt")}</dt>
                <dd data-testid="broadcast-scheduled-at">{fmt.dateTime(broadcast.scheduled_at)}</dd>
              </>
            ) : null}
            {broadcast.started_at ? (
              <>
                <dt>{t("broadcasts.detail.startedAt")}</dt>
                <dd>{fmt.dateTime(broadcast.started_at)}</dd>
              </>
            ) : null}
            {broadcast.finished_at ? (
              <>
                <dt>{t("broadcasts.progress.finished")}</dt>
                <dd>{fmt.dateTime(broadcast.finished_at)}</dd>
              </>
            ) : null}
          </dl>
        </div>
      )}
      {started ? (
        <>
          {progress ? <ProgressPanel progress={progress} /> : <Spinner />}
          <BroadcastResults broadcastId={id} broadcastName={broadcast.name} live={live} status={status} progress={progress} />
        </>
      ) : null}
    </section>
  );
}
