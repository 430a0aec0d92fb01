import { useEffect, useState } from "react";
import { Link, Navigate, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ApiError } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters } from "../../session";
import { broadcastApi, EXCLUSION_REASONS, type Broadcast, type Estimate, type ExclusionReason, type PreviewRecipient } from "./api";
import { StatusBadge, useMoney, useNumber } from "./parts";

const EXCLUSION_KEYS: Record<ExclusionReason, TKey> = {
  no_whatsapp: "broadcasts.review.excluded.no_whatsapp",
  opted_out: "broadcasts.review.excluded.opted_out",
  undeliverable: "broadcasts.review.excluded.undeliverable",
  frequency_cap: "broadcasts.review.excluded.frequency_cap",
  excluded_segments: "broadcasts.review.excluded.excluded_segments",
};

/** The cost before sending: who is reached, who is left out and why, per market, against the balance or cap. */
function CostEstimate({ estimate }: { estimate: Estimate }) {
  const { t } = useI18n();
  const money = useMoney();
  const num = useNumber();
  const reasons = [...EXCLUSION_REASONS, ...(Object.keys(estimate.excluded ?? {}) as ExclusionReason[]).filter((r) => !EXCLUSION_REASONS.includes(r))];
  return (
    <div className="card stack" data-testid="review-estimate">
      <h2>{t("broadcasts.review.cost")}</h2>
      <div className="metric-strip">
        <div className="metric">
          <span className="metric-label">{t("broadcasts.review.recipients")}</span>
          <strong className="metric-value" data-testid="review-recipients">
            {num(estimate.recipients)}
          </strong>
        </div>
        <div className="metric">
          <span className="metric-label">{t("broadcasts.review.total")}</span>
          <strong className="metric-value" data-testid="review-total">
            {money(estimate.total, estimate.currency)}
          </strong>
        </div>
        <div className="metric">
          <span className="metric-label">{estimate.balance !== null ? t("broadcasts.review.balance") : t("broadcasts.review.billing")}</span>
          <strong className="metric-value" data-testid="review-balance">
            {estimate.balance !== null ? money(estimate.balance, estimate.currency) : t("broadcasts.review.postpaid")}
          </strong>
        </div>
        {estimate.cap_left !== null ? (
          <div className="metric">
            <span className="metric-label">{t("broadcasts.review.capLeft")}</span>
            <strong className="metric-value" data-testid="review-cap-left">
              {money(estimate.cap_left, estimate.currency)}
            </strong>
          </div>
        ) : null}
      </div>

      <h3 className="subhead">{t("broadcasts.review.excludedTitle")}</h3>
      <ul className="mini-list" data-testid="review-excluded">
        {reasons.map((reason) => (
          <li key={reason} data-testid={`review-excluded-${reason}`}>
            <span>{EXCLUSION_KEYS[reason] ? t(EXCLUSION_KEYS[reason]) : reason}</span>
            <span className="mini-right">{num(estimate.excluded?.[reason] ?? 0)}</span>
          </li>
        ))}
      </ul>

      <h3 className="subhead">{t("broadcasts.review.byMarket")}</h3>
      <div className="table-wrap">
        <table className="table" data-testid="review-markets">
          <thead>
            <tr>
              <th>{t("broadcasts.review.market")}</th>
              <th className="num">{t("broadcasts.review.count")}</th>
              <th className="num">{t("broadcasts.review.unitPrice")}</th>
              <th className="num">{t("broadcasts.review.subtotal")}</th>
            </tr>
          </thead>
          <tbody>
            {estimate.markets.map((m) => (
              <tr key={m.market} data-testid={`review-market-${m.market}`}>
                <td>
                  {m.name} <span className="muted small">+{m.market}</span>
                </td>
                <td className="num">{num(m.count)}</td>
                <td className="num">{money(m.unit_price, estimate.currency)}</td>
                <td className="num">{money(m.total, estimate.currency)}</td>
              </tr>
            ))}
            <tr className="row-total">
              <td>{t("broadcasts.review.total")}</td>
              <td className="num">{num(estimate.recipients)}</td>
              <td />
              <td className="num">{money(estimate.total, estimate.currency)}</td>
            </tr>
          </tbody>
        </table>
      </div>
    </div>
  );
}

export function BroadcastReviewPage() {
  const { broadcastId } = useParams();
  const id = Number(broadcastId);
  const [search] = useSearchParams();
  const { t } = useI18n();
  const fmt = useFormatters();
  const num = useNumber();
  const navigate = useNavigate();
  const [broadcast, setBroadcast] = useState<Broadcast | null>(null);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [preview, setPreview] = useState<PreviewRecipient[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    let cancelled = false;
    broadcastApi.get(id).then(
      (b) => !cancelled && setBroadcast(b),
      (err) => !cancelled && setError(errorMessage(err, t)),
    );
    broadcastApi.estimate(id).then(
      (e) => !cancelled && setEstimate(e),
      (err) => !cancelled && setError(errorMessage(err, t)),
    );
    broadcastApi.preview(id).then(
      (p) => !cancelled && setPreview(p?.recipients ?? []),
      () => !cancelled && setPreview([]),
    );
    return () => {
      cancelled = true;
    };
  }, [id, t]);

  // From the editor: "?at=<iso>" or "?at=" for now; otherwise the time the broadcast is scheduled for, if any.
  const requested = search.has("at") ? search.get("at") || null : (broadcast?.scheduled_at ?? null);
  const at = requested && new Date(requested).getTime() > Date.now() ? requested : null;

  async function send() {
    setSending(true);
    setError(null);
    setRefusal(null);
    try {
      await broadcastApi.send(id, at);
      navigate(`/broadcasts/${id}`);
    } catch (err) {
      const message = errorMessage(err, t);
      // 402: the balance or the cap refuses; nothing was sent.
      if (err instanceof ApiError && err.status === 402) setRefusal(message);
      else setError(message);
      setSending(false);
    }
  }

  if (broadcast && broadcast.status !== "draft" && broadcast.status !== "scheduled") return <Navigate to={`/broadcasts/${id}`} replace />;

  const refused = refusal ?? (estimate && !estimate.allowed ? (estimate.refusal ?? t("broadcasts.review.refusedDefault")) : null);
  const canSend = !!estimate && estimate.allowed && refusal === null && !sending && estimate.recipients > 0;

  return (
    <section className="page stack">
      <Link className="back-link" to={`/broadcasts/${id}/edit`} data-testid="review-edit">
        ← {t("broadcasts.review.edit")}
      </Link>
      <header className="page-header">
        <h1>{broadcast ? t("broadcasts.review.title", { name: broadcast.name }) : t("broadcasts.review.titlePlain")}</h1>
        {broadcast ? <StatusBadge status={broadcast.status} /> : null}
      </header>
      {error ? <Alert kind="error">{error}</Alert> : null}
      {refused ? (
        <Alert kind="error" testId="review-refusal">
          <strong>{t("broadcasts.review.refused")}</strong> {refused}{" "}
          <Link to="/settings/billing">{t("broadcasts.review.openBilling")}</Link>
        </Alert>
      ) : null}
      {broadcast ? (
        <div className="card">
          <dl className="kv">
            <dt>{t("broadcasts.compose.template")}</dt>
            <dd>
              {broadcast.template?.name} ({broadcast.template?.language})
            </dd>
            <dt>{t("broadcasts.compose.schedule")}</dt>
            <dd data-testid="review-when">{at ? t("broadcasts.review.at", { date: fmt.dateTime(at) }) : t("broadcasts.compose.now")}</dd>
          </dl>
        </div>
      ) : null}
      {estimate ? <CostEstimate estimate={estimate} /> : <Spinner />}

      <div className="card stack">
        <h2>{t("broadcasts.review.preview")}</h2>
        {preview === null ? (
          <Spinner />
        ) : preview.length === 0 ? (
          <p className="muted">{t("broadcasts.review.noPreview")}</p>
        ) : (
          <ul className="mini-list" data-testid="review-preview">
            {preview.map((r) => (
              <li key={`${r.contact_id}-${r.to}`} data-testid={`review-preview-${r.contact_id}`}>
                <strong>{r.name || r.to}</strong>
                <span className="muted small">{r.to}</span>
                <div className="timeline-summary" style={{ flexBasis: "100%" }}>
                  {r.text}
                </div>
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="button-row">
        <Link className="btn btn-secondary" to={`/broadcasts/${id}/edit`}>
          {t("broadcasts.review.edit")}
        </Link>
        <button type="button" className="btn btn-primary" disabled={!canSend} onClick={() => void send()} data-testid="review-send">
          {sending ? t("broadcasts.review.sending") : at ? t("broadcasts.review.schedule", { date: fmt.dateTime(at) }) : t("broadcasts.review.sendNow", { n: num(estimate?.recipients ?? 0) })}
        </button>
      </div>
    </section>
  );
}
