import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { endpoints, KPI_NAMES, type Analytics, type AnalyticsTable, type FunnelStep, type KpiName, type KpiValue, type ResponseStats } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { formatMoney, formatNumber, formatRate, formatYmd, shiftYmd, todayYmd } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useShop } from "../../session";
import type { Lang } from "../../config";

const MONEY_KPIS: KpiName[] = ["revenue", "average_order_value"];
const RATE_KPIS: KpiName[] = ["repeat_purchase_rate", "closing_rate"];

export function formatKpi(name: KpiName, value: KpiValue["value"], lang: Lang): string {
  if (value === null || value === undefined) return "—";
  if (MONEY_KPIS.includes(name)) return formatMoney(value);
  if (RATE_KPIS.includes(name)) return formatRate(value, lang);
  return formatNumber(value, lang);
}

/** Relative change vs the previous period, or null when it cannot be computed. */
export function kpiChange(kpi: KpiValue | undefined): number | null {
  if (!kpi || kpi.value === null || kpi.previous === null || kpi.previous === undefined) return null;
  const now = Number(kpi.value);
  const before = Number(kpi.previous);
  if (!Number.isFinite(now) || !Number.isFinite(before) || before === 0) return null;
  return (now - before) / Math.abs(before);
}

/** Seconds as "45 dtk" / "3 mnt" / "2 j 5 mnt". */
export function formatDuration(seconds: number | null | undefined, t: (key: TKey, vars?: Record<string, string | number>) => string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return "—";
  const s = Math.round(Number(seconds));
  if (s < 60) return t("duration.seconds", { n: s });
  if (s < 3600) return t("duration.minutes", { n: Math.round(s / 60) });
  return t("duration.hours", { h: Math.floor(s / 3600), m: Math.round((s % 3600) / 60) });
}

export function FunnelBars({ funnel, testId }: { funnel: FunnelStep[]; testId: string }) {
  const { t, lang } = useI18n();
  if (!funnel.length) return <p className="muted">{t("analytics.noData")}</p>;
  const max = Math.max(1, ...funnel.map((f) => f.reached || 0));
  return (
    <ol className="funnel" data-testid={testId}>
      {funnel.map((step) => (
        <li key={step.stage_id} className="funnel-step" data-testid={`${testId}-step-${step.stage_id}`}>
          <div className="funnel-label">
            <span>{step.name}</span>
            <span className="muted small">
              {step.reached}
              {step.conversion_from_previous !== null && step.conversion_from_previous !== undefined ? ` · ${formatRate(step.conversion_from_previous, lang)}` : ""}
            </span>
          </div>
          <div className="funnel-track">
            <div className="funnel-bar" style={{ width: `${Math.max(2, (100 * (step.reached || 0)) / max)}%` }} />
          </div>
        </li>
      ))}
    </ol>
  );
}

/** Revenue bars with the order count as a line, drawn in SVG. */
export function TrendChart({ trend, bucket }: { trend: Analytics["trend"]; bucket: Analytics["bucket"] }) {
  const { t, lang } = useI18n();
  const W = 640;
  const H = 220;
  const pad = { l: 8, r: 8, t: 12, b: 28 };
  const innerW = W - pad.l - pad.r;
  const innerH = H - pad.t - pad.b;
  const n = Math.max(1, trend.length);
  const maxRevenue = Math.max(1, ...trend.map((p) => Number(p.revenue) || 0));
  const maxOrders = Math.max(1, ...trend.map((p) => p.orders || 0));
  const slot = innerW / n;
  const barW = Math.max(2, slot * 0.7);
  const x = (i: number) => pad.l + slot * i + slot / 2;
  const yRev = (v: number) => pad.t + innerH - (innerH * v) / maxRevenue;
  const yOrd = (v: number) => pad.t + innerH - (innerH * v) / maxOrders;
  const line = trend.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${yOrd(p.orders || 0).toFixed(1)}`).join(" ");
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  const label = (d: string) => formatYmd(d, lang, { day: "numeric", month: "short" });
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t("analytics.trendLabel")} data-testid="analytics-trend-chart" preserveAspectRatio="none">
        <line x1={pad.l} x2={W - pad.r} y1={pad.t + innerH} y2={pad.t + innerH} className="chart-axis" />
        {trend.map((p, i) => {
          const y = yRev(Number(p.revenue) || 0);
          return (
            <rect key={p.date} className="chart-bar" x={x(i) - barW / 2} y={y} width={barW} height={pad.t + innerH - y} data-testid="trend-bar">
              <title>
                {`${bucket === "week" ? t("analytics.weekOf", { date: label(p.date) }) : label(p.date)}: ${formatMoney(p.revenue)} · ${t("analytics.ordersCount", { n: p.orders })}`}
              </title>
            </rect>
          );
        })}
        {trend.length > 1 ? <path d={line} className="chart-line" fill="none" /> : null}
        {trend.map((p, i) => (
          <circle key={p.date} cx={x(i)} cy={yOrd(p.orders || 0)} r={3} className="chart-dot" />
        ))}
        {trend.map((p, i) =>
          i % labelEvery === 0 ? (
            <text key={p.date} x={x(i)} y={H - 8} textAnchor="middle" className="chart-label">
              {label(p.date)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption className="chart-legend small">
        <span className="legend-bar" aria-hidden="true" /> {t("analytics.revenue")} ({t("analytics.max", { v: formatMoney(maxRevenue) })})
        <span className="legend-line" aria-hidden="true" /> {t("analytics.orders")} ({t("analytics.max", { v: maxOrders })})
      </figcaption>
    </figure>
  );
}

function ResponseRow({ label, stats, testId }: { label: string; stats: ResponseStats | undefined; testId: string }) {
  const { t } = useI18n();
  return (
    <tr data-testid={testId}>
      <td data-label="">{label}</td>
      <td data-label={t("analytics.p50")}>{formatDuration(stats?.p50_seconds, t)}</td>
      <td data-label={t("analytics.p90")}>{formatDuration(stats?.p90_seconds, t)}</td>
      <td data-label={t("analytics.count")}>{stats?.count ?? 0}</td>
    </tr>
  );
}

type PeriodChoice = "7" | "30" | "90" | "custom";

export function AnalyticsPage() {
  const { t, lang } = useI18n();
  const shop = useShop();
  const today = todayYmd(shop?.timezone);
  const [choice, setChoice] = useState<PeriodChoice>("30");
  const [customFrom, setCustomFrom] = useState(shiftYmd(today, -29));
  const [customTo, setCustomTo] = useState(today);
  const [data, setData] = useState<Analytics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const range = choice === "custom" ? { from: customFrom, to: customTo } : { from: shiftYmd(today, -(Number(choice) - 1)), to: today };
  const valid = !!range.from && !!range.to && range.from <= range.to;

  useEffect(() => {
    if (!valid) return;
    let cancelled = false;
    setLoading(true);
    endpoints.analytics(range.from, range.to).then(
      (d) => {
        if (cancelled) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (err) => {
        if (cancelled) return;
        setError(errorMessage(err, t));
        setLoading(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [range.from, range.to, valid, t]);

  const exportLink = (table: AnalyticsTable, testId: string) => (
    <a className="btn btn-ghost btn-sm" href={endpoints.analyticsExportUrl(table, range.from, range.to)} download data-testid={testId}>
      {t("analytics.csv")}
    </a>
  );

  return (
    <section className="page">
      <header className="page-header">
        <h1>{t("nav.analytics")}</h1>
        <div className="header-actions">
          <select aria-label={t("analytics.period")} value={choice} onChange={(e) => setChoice(e.target.value as PeriodChoice)} data-testid="analytics-period">
            <option value="7">{t("period.lastDays", { n: 7 })}</option>
            <option value="30">{t("period.lastDays", { n: 30 })}</option>
            <option value="90">{t("period.lastDays", { n: 90 })}</option>
            <option value="custom">{t("period.custom")}</option>
          </select>
          {choice === "custom" ? (
            <>
              <input type="date" aria-label={t("period.from")} value={customFrom} max={customTo} onChange={(e) => setCustomFrom(e.target.value)} data-testid="analytics-from" />
              <input type="date" aria-label={t("period.to")} value={customTo} min={customFrom} onChange={(e) => setCustomTo(e.target.value)} data-testid="analytics-to" />
            </>
          ) : null}
        </div>
      </header>
      {data ? (
        <p className="muted small" data-testid="analytics-range">
          {t("analytics.range", { from: formatYmd(data.from, lang), to: formatYmd(data.to, lang), pfrom: formatYmd(data.previous_from, lang), pto: formatYmd(data.previous_to, lang) })}
        </p>
      ) : null}
      {error ? (
        <Alert kind="error" testId="analytics-error">
          {error}
        </Alert>
      ) : null}
      {!data ? (
        loading ? <Spinner /> : null
      ) : (
        <div className={`stack${loading ? " is-loading" : ""}`}>
          <div className="kpi-grid">
            {KPI_NAMES.map((name) => {
              const kpi = data.kpis?.[name];
              const change = kpiChange(kpi);
              const dir = change === null ? "flat" : change > 0 ? "up" : change < 0 ? "down" : "flat";
              return (
                <div key={name} className="kpi-card" data-testid={`kpi-${name}`}>
                  <span className="kpi-label">{t(`kpi.${name}` as TKey)}</span>
                  <strong className="kpi-value" data-testid={`kpi-${name}-value`}>
                    {formatKpi(name, kpi?.value ?? null, lang)}
                  </strong>
                  <span className={`kpi-change kpi-${dir}`} data-testid={`kpi-${name}-change`} data-direction={dir}>
                    {change === null ? "—" : `${dir === "up" ? "▲" : dir === "down" ? "▼" : "■"} ${formatRate(Math.abs(change), lang)}`}
                    <span className="muted"> {t("analytics.vsPrevious", { v: formatKpi(name, kpi?.previous ?? null, lang) })}</span>
                  </span>
                </div>
              );
            })}
          </div>

          <div className="card">
            <div className="card-head">
              <h2>{t("analytics.trend")}</h2>
              {exportLink("trend", "analytics-export-trend")}
            </div>
            {data.trend?.length ? <TrendChart trend={data.trend} bucket={data.bucket} /> : <p className="muted">{t("analytics.noData")}</p>}
          </div>

          <div className="grid-2">
            <div className="card">
              <h2>{t("analytics.funnel")}</h2>
              <FunnelBars funnel={data.funnel ?? []} testId="analytics-funnel" />
            </div>
            <div className="card">
              <h2>{t("analytics.firstResponse")}</h2>
              <table className="table" data-testid="analytics-first-response">
                <thead>
                  <tr>
                    <th />
                    <th>{t("analytics.p50")}</th>
                    <th>{t("analytics.p90")}</th>
                    <th>{t("analytics.count")}</th>
                  </tr>
                </thead>
                <tbody>
                  <ResponseRow label={t("analytics.human")} stats={data.first_response?.human} testId="first-response-human" />
                  <ResponseRow label={t("analytics.automated")} stats={data.first_response?.automated} testId="first-response-automated" />
                </tbody>
              </table>
            </div>
          </div>

          <div className="grid-2">
            <div className="card">
              <div className="card-head">
                <h2>{t("analytics.topProducts")}</h2>
                {exportLink("top_products", "analytics-export-top-products")}
              </div>
              <table className="table" data-testid="analytics-top-products">
                <thead>
                  <tr>
                    <th>{t("catalog.name")}</th>
                    <th>{t("orders.qty")}</th>
                    <th>{t("analytics.revenue")}</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.top_products ?? []).map((p) => (
                    <tr key={p.product_id}>
                      <td data-label={t("catalog.name")}>{p.name}</td>
                      <td data-label={t("orders.qty")}>{p.quantity}</td>
                      <td data-label={t("analytics.revenue")}>{formatMoney(p.revenue)}</td>
                    </tr>
                  ))}
                  {!data.top_products?.length ? (
                    <tr>
                      <td colSpan={3} className="muted">
                        {t("analytics.noData")}
                      </td>
                    </tr>
                  ) : null}
                </tbody>
              </table>
            </div>
            <div className="card">
              <div className="card-head">
                <h2>{t("analytics.topCustomers")}</h2>
                {exportLink("top_customers", "analytics-export-top-customers")}
              </div>
              <table className="table" data-testid="analytics-top-customers">
                <thead>
                  <tr>
                    <th>{t("contacts.name")}</th>
                    <th>{t("analytics.orders")}</th>
                    <th>{t("analytics.revenue")}</th>
                  </tr>
                </thead>
                <tbody>
                  {(data.top_customers ?? []).map((c) => (
                    <tr key={c.contact_id}>
                      <td data-label={t("contacts.name")}>
                        <Link to={`/contacts/${c.contact_id}`}>{c.name}</Link>
                      </td>
                      <td data-label={t("analytics.orders")}>{c.orders}</td>
                      <td data-label={t("analytics.revenue")}>{formatMoney(c.revenue)}</td>
                    </tr>
                  ))}
                  {!data.top_customers?.length ? (
                    <tr>
                      <td colSpan={3} className="muted">
                        {t("analytics.noData")}
                      </td>
                    </tr>
                  ) : null}
                </tbody>
              </table>
            </div>
          </div>
        </div>
      )}
    </section>
  );
}
