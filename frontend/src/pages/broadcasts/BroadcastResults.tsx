import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { formatRate } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters } from "../../session";
import { broadcastApi, RETARGET_STEPS, type Failure, type Progress, type RecipientRow, type Results, type RetargetStep } from "./api";
import { useMoney, useNumber } from "./parts";

/** The API's limit for a segment's name. */
const SEGMENT_NAME_MAX = 80;

/** "<broadcast> · <step>", the broadcast's name shortened so that the whole fits a segment name. */
export function retargetName(broadcastName: string, stepLabel: string): string {
  const suffix = ` · ${stepLabel}`;
  const room = SEGMENT_NAME_MAX - suffix.length;
  const base = broadcastName.length > room ? `${broadcastName.slice(0, Math.max(0, room - 1)).trimEnd()}…` : broadcastName;
  return `${base}${suffix}`;
}

/** While the broadcast sends, the funnel is re-read this often (statuses and replies keep coming). */
export const RESULTS_REFRESH_MS = 5000;

const FUNNEL: { key: keyof Results["funnel"]; label: TKey }[] = [
  { key: "sent", label: "broadcasts.funnel.sent" },
  { key: "delivered", label: "broadcasts.funnel.delivered" },
  { key: "read", label: "broadcasts.funnel.read" },
  { key: "replied", label: "broadcasts.funnel.replied" },
  { key: "ordered", label: "broadcasts.funnel.ordered" },
];

export const RETARGET_KEYS: Record<RetargetStep, TKey> = {
  not_delivered: "broadcasts.retarget.not_delivered",
  delivered_not_read: "broadcasts.retarget.delivered_not_read",
  read_no_reply: "broadcasts.retarget.read_no_reply",
  replied_no_order: "broadcasts.retarget.replied_no_order",
};

/** Failures by reason; shared by the progress and results panels. */
export function FailureTable({ failures, testId }: { failures: Failure[]; testId: string }) {
  const { t } = useI18n();
  const num = useNumber();
  if (!failures.length) return <p className="muted small">{t("broadcasts.failures.none")}</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>{t("broadcasts.failures.reason")}</th>
            <th className="num">{t("broadcasts.failures.count")}</th>
          </tr>
        </thead>
        <tbody>
          {failures.map((f) => (
            <tr key={`${f.code}-${f.reason}`}>
              <td>
                {f.reason}
                {f.code !== null && f.code !== "" ? <span className="muted small"> ({f.code})</span> : null}
              </td>
              <td className="num">{num(f.count)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The failed recipients, a page at a time. */
function FailedRecipients({ broadcastId }: { broadcastId: number }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const [rows, setRows] = useState<RecipientRow[] | null>(null);
  const [count, setCount] = useState(0);
  const [page, setPage] = useState(1);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    broadcastApi.recipients(broadcastId, "failed", page).then(
      (data) => {
        if (cancelled) return;
        setRows((old) => [...(page > 1 ? (old ?? []) : []), ...(data?.results ?? [])]);
        setCount(data?.count ?? 0);
      },
      (err) => {
        if (cancelled) return;
        setRows((old) => old ?? []);
        setError(errorMessage(err, t));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [broadcastId, page, t]);

  if (rows === null) return <Spinner />;
  return (
    <div data-testid="results-failed-recipients">
      {error ? <Alert kind="error">{error}</Alert> : null}
      {rows.length === 0 ? (
        <p className="muted small">{t("broadcasts.failures.noRecipients")}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>{t("broadcasts.recipients.name")}</th>
                <th>{t("broadcasts.recipients.to")}</th>
                <th>{t("broadcasts.failures.reason")}</th>
                <th>{t("broadcasts.recipients.sentAt")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${r.contact_id ?? "x"}-${r.to}-${i}`}>
                  <td>{r.contact_id ? <Link to={`/contacts/${r.contact_id}`}>{r.name || r.to}</Link> : r.name || r.to}</td>
                  <td>{r.to}</td>
                  <td>{r.error_reason}</td>
                  <td className="small">{fmt.dateTime(r.sent_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows.length < count ? (
        <div className="center list-more">
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setPage((p) => p + 1)} data-testid="results-failed-more">
            {t("inbox.loadMore")}
          </button>
        </div>
      ) : null}
    </div>
  );
}

/** "Create retargeting segment" for one funnel step, then a link to it in Segments. */
function RetargetRow({ broadcastId, broadcastName, step }: { broadcastId: number; broadcastName: string; step: RetargetStep }) {
  const { t } = useI18n();
  const num = useNumber();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ segment_id: number; name: string; count: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function create() {
    setBusy(true);
    setError(null);
    try {
      setCreated(await broadcastApi.retarget(broadcastId, step, retargetName(broadcastName, t(RETARGET_KEYS[step]))));
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  }

  return (
    <li data-testid={`retarget-${step}`}>
      <span>{t(RETARGET_KEYS[step])}</span>
      <span className="mini-right">
        {created ? (
          <Link to="/contacts/segments" data-testid={`retarget-link-${step}`}>
            {t("broadcasts.retarget.created", { name: created.name, n: num(created.count) })}
          </Link>
        ) : (
          <button type="button" className="btn btn-secondary btn-sm" disabled={busy} onClick={() => void create()} data-testid={`retarget-create-${step}`}>
            {t("broadcasts.retarget.create")}
          </button>
        )}
      </span>
      {error ? (
        <span className="field-error" style={{ flexBasis: "100%" }}>
          {error}
        </span>
      ) : null}
    </li>
  );
}

/**
 * Funnel down to the sale, cost before and after, opt-outs, failures with their recipients, retargeting.
 * While sending, `progress` (live events) moves the first steps of the funnel between two reads of results/.
 */
export function BroadcastResults({
  broadcastId,
  broadcastName,
  live,
  status,
  progress,
}: {
  broadcastId: number;
  broadcastName: string;
  live: boolean;
  status: string;
  progress: Progress | null;
}) {
  const { t, lang } = useI18n();
  const money = useMoney();
  const num = useNumber();
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showFailed, setShowFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    const load = () =>
      broadcastApi.results(broadcastId).then(
        (r) => {
          if (cancelled) return;
          setResults(r);
          setError(null);
        },
        (err) => !cancelled && setError(errorMessage(err, t)),
      );
    void load();
    const timer = live ? window.setInterval(() => void load(), RESULTS_REFRESH_MS) : undefined;
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
    // `status` re-reads the results when the broadcast finishes, pauses or stops.
  }, [broadcastId, live, status, t]);

  if (!results) return error ? <Alert kind="error">{error}</Alert> : <Spinner />;
  const funnel =
    live && progress
      ? { ...results.funnel, sent: progress.sent, delivered: progress.delivered, read: progress.read, replied: progress.replied }
      : results.funnel;
  const sent = funnel.sent || 0;
  const max = Math.max(1, sent);
  const failedCount = results.failures.reduce((sum, f) => sum + (f.count || 0), 0);

  return (
    <div className="stack" data-testid="broadcast-results">
      {error ? <Alert kind="error">{error}</Alert> : null}
      <div className="card stack">
        <h2>{t("broadcasts.results.funnel")}</h2>
        <ol className="funnel" data-testid="results-funnel">
          {FUNNEL.map((step) => {
            const value = funnel[step.key] || 0;
            return (
              <li key={step.key} data-testid={`funnel-${step.key}`} data-count={value}>
                <div className="funnel-label">
                  <span>{t(step.label)}</span>
                  <span>
                    <strong>{num(value)}</strong>
                    {step.key !== "sent" ? <span className="muted small"> · {formatRate(sent ? value / sent : null, lang)}</span> : null}
                  </span>
                </div>
                <div className="funnel-track">
                  <div className="funnel-bar" style={{ width: `${value ? Math.max(2, (100 * value) / max) : 0}%` }} />
                </div>
              </li>
            );
          })}
        </ol>
        <div className="metric-strip">
          <div className="metric">
            <span className="metric-label">{t("broadcasts.results.revenue")}</span>
            <strong className="metric-value" data-testid="results-revenue">
              {money(results.revenue, results.currency)}
            </strong>
            <span className="muted small">{t("broadcasts.results.orders", { n: num(results.orders) })}</span>
          </div>
          <div className="metric">
            <span className="metric-label">{t("broadcasts.results.costEstimated")}</span>
            <strong className="metric-value" data-testid="results-cost-estimated">
              {money(results.cost.estimated, results.currency)}
            </strong>
          </div>
          <div className="metric">
            <span className="metric-label">{t("broadcasts.results.costActual")}</span>
            <strong className="metric-value" data-testid="results-cost-actual">
              {money(results.cost.actual, results.currency)}
            </strong>
          </div>
          <div className="metric">
            <span className="metric-label">{t("broadcasts.results.optedOut")}</span>
            <strong className="metric-value" data-testid="results-opted-out">
              {num(results.opted_out)}
            </strong>
          </div>
        </div>
      </div>

      {/* While sending, the progress panel shows the failures as they happen. */}
      {live ? null : (
        <div className="card stack">
          <div className="card-head">
            <h2>{t("broadcasts.results.failures")}</h2>
            {failedCount > 0 ? (
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => setShowFailed((v) => !v)} aria-expanded={showFailed} data-testid="results-failed-toggle">
                {showFailed ? t("broadcasts.results.hideRecipients") : t("broadcasts.results.showRecipients", { n: num(failedCount) })}
              </button>
            ) : null}
          </div>
          <FailureTable failures={results.failures} testId="results-failures" />
          {showFailed ? <FailedRecipients broadcastId={broadcastId} /> : null}
        </div>
      )}

      <div className="card stack">
        <h2>{t("broadcasts.retarget.title")}</h2>
        <p className="muted small">{t("broadcasts.retarget.intro")}</p>
        <ul className="mini-list" data-testid="results-retarget">
          {RETARGET_STEPS.map((step) => (
            <RetargetRow key={step} broadcastId={broadcastId} broadcastName={broadcastName} step={step} />
          ))}
        </ul>
      </div>
    </div>
  );
}
