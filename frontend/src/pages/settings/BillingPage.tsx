import { useEffect, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router-dom";
import { endpoints, type BillingInvoice, type BillingOverview, type BillingPlan, type PlanLimit } from "../../api";
import { redirectTo } from "../../browser";
import { Alert, ErrorAlert } from "../../components/Alert";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import type { Lang } from "../../config";
import { formatMoney, formatNumber, formatYmd } from "../../format";
import { LOCALES, useI18n, type TKey } from "../../i18n";
import { useFormatters, useSession } from "../../session";

/* ---------- Money: amounts in currency units (decimal strings) or integer minor units ---------- */

/** Digits after the decimal point of a currency's minor unit (IDR has none). */
function minorDigits(currency: string): number {
  return currency === "IDR" ? 0 : 2;
}

/** An amount in currency units ("813.7800" or a number) as the shop reads it: "Rp 814", "US$12.50". */
export function formatAmount(value: string | number | null | undefined, currency: string, lang: Lang): string {
  if (value === null || value === undefined || value === "") return "—";
  if (currency === "IDR") return formatMoney(value);
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return new Intl.NumberFormat(LOCALES[lang], { style: "currency", currency, minimumFractionDigits: minorDigits(currency) }).format(n);
}

/** Integer minor units as a decimal string in currency units: 1250 USD → "12.50", 50000 IDR → "50000". */
export function minorToDecimal(minor: number, currency: string): string {
  const digits = minorDigits(currency);
  if (digits === 0) return String(minor);
  const text = String(Math.abs(minor)).padStart(digits + 1, "0");
  return `${minor < 0 ? "-" : ""}${text.slice(0, -digits)}.${text.slice(-digits)}`;
}

function formatMinor(minor: number, currency: string, lang: Lang): string {
  return formatAmount(minorToDecimal(minor, currency), currency, lang);
}

/**
 * What the shop typed ("100.000", "Rp 50.000", "12.50") as integer minor units, without floating point;
 * null when it is not an amount. For IDR dots and commas are thousands separators.
 */
export function parseAmount(text: string, currency: string): number | null {
  const cleaned = text.replace(/[\s\u00a0]|rp|us\$|\$/gi, "");
  if (!cleaned) return null;
  const digits = minorDigits(currency);
  if (digits === 0) return /^\d{1,3}([.,]\d{3})+$|^\d+$/.test(cleaned) ? Number(cleaned.replace(/[.,]/g, "")) : null;
  const m = new RegExp(`^(\\d+)(?:[.,](\\d{1,${digits}}))?$`).exec(cleaned);
  if (!m) return null;
  return Number(m[1]) * 10 ** digits + Number((m[2] ?? "").padEnd(digits, "0"));
}

/** A decimal string in currency units ("500000.0000") as integer minor units, rounded half up. */
export function decimalToMinor(value: string, currency: string): number {
  const digits = minorDigits(currency);
  const [whole, fraction = ""] = value.trim().split(".");
  const padded = fraction.padEnd(digits + 1, "0");
  const minor = Math.abs(Number(whole)) * 10 ** digits + Number(padded.slice(0, digits) || 0) + (Number(padded[digits]) >= 5 ? 1 : 0);
  return whole.startsWith("-") ? -minor : minor;
}

/** An amount in minor units as the text of an input ("100.000" for IDR, "12.50" for USD). */
function amountInput(minor: number, currency: string): string {
  return currency === "IDR" ? new Intl.NumberFormat("id-ID").format(minor) : minorToDecimal(minor, currency);
}

const TOP_UP_PRESETS: Record<string, number[]> = {
  IDR: [50_000, 100_000, 250_000, 500_000],
  USD: [500, 1_000, 2_500, 5_000],
};

/* ---------- Shared bits ---------- */

const CATEGORY_KEYS: Record<string, TKey> = {
  marketing: "billing.category.marketing",
  utility: "billing.category.utility",
  authentication: "billing.category.authentication",
  "authentication-international": "billing.category.authenticationInternational",
  service: "billing.category.service",
  referral_conversion: "billing.category.referralConversion",
};
/** Stacking order of the chart, most expensive first. */
const CATEGORY_ORDER = ["marketing", "utility", "authentication", "authentication-international", "service", "referral_conversion"];

export function useCategoryName(): (category: string) => string {
  const { t } = useI18n();
  return (category) => (CATEGORY_KEYS[category] ? t(CATEGORY_KEYS[category]) : category);
}

/** Per limit: "2 / 3 staff seats", "2 staff seats (unlimited)", a plan's "3 staff seats", "Unlimited staff seats". */
const LIMIT_KEYS: Record<PlanLimit, { used: TKey; usedUnlimited: TKey; plan: TKey; planUnlimited: TKey }> = {
  staff_seats: { used: "billing.limit.staffSeats", usedUnlimited: "billing.limit.staffSeatsUnlimited", plan: "billing.plan.staffSeats", planUnlimited: "billing.plan.staffSeatsUnlimited" },
  contact_limit: { used: "billing.limit.contacts", usedUnlimited: "billing.limit.contactsUnlimited", plan: "billing.plan.contacts", planUnlimited: "billing.plan.contactsUnlimited" },
  broadcasts_per_month: { used: "billing.limit.broadcasts", usedUnlimited: "billing.limit.broadcastsUnlimited", plan: "billing.plan.broadcasts", planUnlimited: "billing.plan.broadcastsUnlimited" },
  automation_rules: { used: "billing.limit.rules", usedUnlimited: "billing.limit.rulesUnlimited", plan: "billing.plan.rules", planUnlimited: "billing.plan.rulesUnlimited" },
};

/** "ok" below 80%, "warn" from 80%, "over" from 100%: the colours of the cap and limit bars. */
export function usageLevel(percent: number | null | undefined): "ok" | "warn" | "over" {
  if (percent === null || percent === undefined) return "ok";
  return percent >= 100 ? "over" : percent >= 80 ? "warn" : "ok";
}

function Meter({ percent, testId, label }: { percent: number; testId: string; label: string }) {
  const level = usageLevel(percent);
  return (
    <div
      className={`meter meter-${level}`}
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.min(100, Math.round(percent))}
      data-testid={testId}
      data-level={level}
    >
      <div className="meter-bar" style={{ width: `${Math.min(100, Math.max(percent > 0 ? 2 : 0, percent))}%` }} />
    </div>
  );
}

/* ---------- Live billing state shared with the dashboard banner (no extra requests) ---------- */

type BillingListener = (overview: BillingOverview) => void;
const billingListeners = new Set<BillingListener>();

function publishBilling(overview: BillingOverview) {
  billingListeners.forEach((listener) => listener(overview));
}

/* ---------- Plan ---------- */

/** Statuses in which choosing a plan changes the existing subscription (billing/stripe_gateway.subscribe_checkout). */
const SUBSCRIBED = ["active", "trialing", "past_due"];

function subscriptionText(data: BillingOverview, t: (key: TKey, vars?: Record<string, string | number>) => string, date: (iso: string) => string): string {
  const { status, current_period_end, cancel_at_period_end, trial_ends_at } = data.subscription;
  if (status === "active") {
    if (current_period_end) return t(cancel_at_period_end ? "billing.status.activeEnds" : "billing.status.activeRenews", { date: date(current_period_end) });
    return t("billing.status.active");
  }
  if (status === "past_due" || status === "unpaid") return t("billing.status.pastDue");
  if (status === "canceled") return t("billing.status.canceled");
  if (status === "incomplete") return t("billing.status.incomplete");
  const trialEnd = trial_ends_at ?? (status === "trialing" ? current_period_end : null);
  if (trialEnd) return t(new Date(trialEnd).getTime() < Date.now() ? "billing.status.trialEnded" : "billing.status.trialing", { date: date(trialEnd) });
  if (status === "trialing") return t("billing.status.trialingOpen");
  return t("billing.status.none");
}

function statusBadge(status: string): string {
  if (status === "active" || status === "trialing") return "badge-ok";
  if (status === "past_due" || status === "unpaid" || status === "canceled") return "badge-danger";
  return "badge-trial";
}

function PlanCard({ data }: { data: BillingOverview }) {
  const { t, lang } = useI18n();
  const fmt = useFormatters();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const subscribed = SUBSCRIBED.includes(data.subscription.status);

  async function go(key: string, request: () => Promise<{ url: string }>) {
    setBusy(key);
    setError(null);
    try {
      const { url } = await request();
      redirectTo(url);
    } catch (err) {
      setError(errorMessage(err, t));
      setBusy(null);
    }
  }

  const limitText = (plan: BillingPlan, limit: PlanLimit) =>
    plan[limit] === null ? t(LIMIT_KEYS[limit].planUnlimited) : t(LIMIT_KEYS[limit].plan, { n: formatNumber(plan[limit], lang) });

  return (
    <div className="card" data-testid="billing-plan-card">
      <div className="card-head">
        <h2>{t("billing.plan.title")}</h2>
        <button type="button" className="btn btn-secondary btn-sm" disabled={busy !== null} data-testid="billing-portal" onClick={() => void go("portal", endpoints.billingPortal)}>
          {t("billing.plan.manage")}
        </button>
      </div>
      {error ? (
        <Alert kind="error" testId="billing-plan-error">
          {error}
        </Alert>
      ) : null}
      <div className="billing-current" data-testid="billing-current-plan">
        <strong className="billing-plan-name">{data.plan?.name ?? t("billing.plan.none")}</strong>
        <span className={`badge ${statusBadge(data.subscription.status)}`} data-testid="billing-status">
          {subscriptionText(data, t, fmt.date)}
        </span>
      </div>
      {data.limits.length ? (
        <ul className="billing-limits" data-testid="billing-limits">
          {data.limits.map((row) => {
            const keys = LIMIT_KEYS[row.limit];
            if (!keys) return null;
            const used = formatNumber(row.used, lang);
            const text = row.allowed === null ? t(keys.usedUnlimited, { used }) : t(keys.used, { used, allowed: formatNumber(row.allowed, lang) });
            return (
              <li key={row.limit} data-testid={`billing-limit-${row.limit}`}>
                <span className="small">{text}</span>
                {row.allowed !== null ? <Meter percent={row.allowed ? (100 * row.used) / row.allowed : 100} testId={`billing-limit-${row.limit}-bar`} label={text} /> : null}
              </li>
            );
          })}
        </ul>
      ) : null}
      {data.plans.length ? (
        <>
          <h3 className="subhead">{subscribed ? t("billing.plan.switchTitle") : t("billing.plan.chooseTitle")}</h3>
          <ul className="plan-grid">
            {data.plans.map((plan) => {
              const current = subscribed && plan.code === data.plan?.code;
              return (
                <li key={plan.code} className={`plan-option${current ? " plan-current" : ""}`} data-testid={`billing-plan-${plan.code}`}>
                  <strong>{plan.name}</strong>
                  <span className="plan-price">{t("billing.plan.perMonth", { price: formatMinor(plan.monthly_price, data.currency, lang) })}</span>
                  <ul className="plan-features small muted">
                    {(Object.keys(LIMIT_KEYS) as PlanLimit[]).map((limit) => (
                      <li key={limit}>{limitText(plan, limit)}</li>
                    ))}
                    <li>{t("billing.plan.markup", { percent: formatNumber(plan.whatsapp_markup_percent, lang) })}</li>
                  </ul>
                  <button
                    type="button"
                    className={`btn ${current ? "btn-ghost" : "btn-primary"} btn-sm`}
                    disabled={current || busy !== null}
                    data-testid={`billing-choose-${plan.code}`}
                    onClick={() => void go(plan.code, () => endpoints.subscribe(plan.code))}
                  >
                    {current ? t("billing.plan.current") : subscribed ? t("billing.plan.switch") : t("billing.plan.choose")}
                  </button>
                </li>
              );
            })}
          </ul>
        </>
      ) : null}
    </div>
  );
}

/* ---------- WhatsApp balance and top-up ---------- */

function BalanceCard({ data }: { data: BillingOverview }) {
  const { t, lang } = useI18n();
  const currency = data.currency;
  const presets = TOP_UP_PRESETS[currency] ?? TOP_UP_PRESETS.USD;
  const [amount, setAmount] = useState(() => amountInput(presets[1], currency));
  const [saveCard, setSaveCard] = useState(false);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const chosen = parseAmount(amount, currency);

  async function onTopUp(e: FormEvent) {
    e.preventDefault();
    setFieldErrors({});
    setAlert([]);
    if (chosen === null || chosen <= 0) {
      setFieldErrors({ amount: [t("billing.invalidAmount")] });
      return;
    }
    setBusy(true);
    try {
      const { url } = await endpoints.topUp(chosen, saveCard);
      redirectTo(url);
    } catch (err) {
      const split = splitErrors(err, ["amount", "save_card"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
      setBusy(false);
    }
  }

  const reserved = Number(data.balance.reserved) > 0;
  return (
    <div className="card" data-testid="billing-balance-card">
      <h2>{t("billing.balance.title")}</h2>
      <div className="balance-figure">
        <span className="muted small">{t("billing.balance.available")}</span>
        <strong className="balance-amount" data-testid="billing-balance">
          {formatAmount(data.balance.available, currency, lang)}
        </strong>
        <span className="muted small" data-testid="billing-reserved">
          {reserved ? t("billing.balance.reserved", { amount: formatAmount(data.balance.reserved, currency, lang) }) : t("billing.balance.nothingReserved")}
        </span>
      </div>
      <p className="muted small">{t("billing.balance.intro")}</p>
      {data.balance.auto_recharge_error ? (
        <Alert kind="warning" testId="billing-auto-recharge-error">
          {t("billing.balance.autoRechargeFailed", { reason: data.balance.auto_recharge_error })}
        </Alert>
      ) : null}
      <form className="form" onSubmit={onTopUp} noValidate data-testid="billing-top-up-form">
        <ErrorAlert messages={alert} />
        <div className="chips" role="group" aria-label={t("billing.topUp.presets")}>
          {presets.map((preset) => (
            <button
              key={preset}
              type="button"
              className="chip"
              aria-pressed={chosen === preset}
              data-testid={`billing-preset-${preset}`}
              onClick={() => {
                setAmount(amountInput(preset, currency));
                setFieldErrors({});
              }}
            >
              {formatMinor(preset, currency, lang)}
            </button>
          ))}
        </div>
        <Field
          id="amount"
          label={t("billing.topUp.amount")}
          inputMode={currency === "IDR" ? "numeric" : "decimal"}
          value={amount}
          onChange={(e) => setAmount(e.target.value)}
          errors={fieldErrors.amount}
          hint={t("billing.topUp.hint", { min: formatMinor(presets[0], currency, lang) })}
          suffix={currency}
        />
        <label className="checkbox">
          <input type="checkbox" checked={saveCard} onChange={(e) => setSaveCard(e.target.checked)} data-testid="billing-save-card" />
          {t("billing.topUp.saveCard")}
        </label>
        {fieldErrors.save_card ? <div className="field-error">{fieldErrors.save_card.join(" ")}</div> : null}
        <div className="button-row">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="billing-top-up">
            {busy ? t("billing.topUp.redirecting") : chosen ? t("billing.topUp.submitAmount", { amount: formatMinor(chosen, currency, lang) }) : t("billing.topUp.submit")}
          </button>
        </div>
      </form>
    </div>
  );
}

/* ---------- Monthly cap and auto-recharge ---------- */

const PREF_FIELDS = ["monthly_cap", "auto_recharge", "auto_recharge_below", "auto_recharge_amount"] as const;

interface PrefsForm {
  monthly_cap: string;
  auto_recharge: boolean;
  auto_recharge_below: string;
  auto_recharge_amount: string;
}

function prefsForm(data: BillingOverview): PrefsForm {
  const c = data.currency;
  const cap = data.cap.monthly_cap;
  return {
    monthly_cap: cap === null ? "" : amountInput(decimalToMinor(cap, c), c),
    auto_recharge: data.balance.auto_recharge,
    auto_recharge_below: data.balance.auto_recharge_below ? amountInput(data.balance.auto_recharge_below, c) : "",
    auto_recharge_amount: data.balance.auto_recharge_amount ? amountInput(data.balance.auto_recharge_amount, c) : "",
  };
}

function CapCard({ data, onSaved }: { data: BillingOverview; onSaved: (data: BillingOverview) => void }) {
  const { t, lang } = useI18n();
  const currency = data.currency;
  const [form, setForm] = useState<PrefsForm>(() => prefsForm(data));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const percent = data.cap.percent;
  const level = usageLevel(percent);

  const set = (key: keyof PrefsForm) => (value: string | boolean) => {
    setForm((f) => ({ ...f, [key]: value }));
    setSaved(false);
  };

  async function onSave(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    setAlert([]);
    const errors: Record<string, string[]> = {};
    const minor = (key: "monthly_cap" | "auto_recharge_below" | "auto_recharge_amount") => {
      if (!form[key].trim()) return 0;
      const value = parseAmount(form[key], currency);
      if (value === null) errors[key] = [t("billing.invalidAmount")];
      return value ?? 0;
    };
    const cap = form.monthly_cap.trim() ? minorToDecimal(minor("monthly_cap"), currency) : null;
    const below = minor("auto_recharge_below");
    const amount = minor("auto_recharge_amount");
    setFieldErrors(errors);
    if (Object.keys(errors).length) return;
    setSaving(true);
    try {
      const updated = await endpoints.saveBillingPreferences({ monthly_cap: cap, auto_recharge: form.auto_recharge, auto_recharge_below: below, auto_recharge_amount: amount });
      onSaved(updated);
      setForm(prefsForm(updated));
      setSaved(true);
    } catch (err) {
      const split = splitErrors(err, PREF_FIELDS, t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="card" data-testid="billing-cap-card">
      <h2>{t("billing.cap.title")}</h2>
      {data.cap.monthly_cap !== null && percent !== null ? (
        <div className={`cap-status cap-${level}`} data-testid="billing-cap">
          <div className="cap-text">
            <span>{t("billing.cap.spent", { spent: formatAmount(data.usage.total_price, currency, lang), cap: formatAmount(data.cap.monthly_cap, currency, lang) })}</span>
            <strong data-testid="billing-cap-percent">{percent}%</strong>
          </div>
          <Meter percent={percent} testId="billing-cap-bar" label={t("billing.cap.title")} />
          {level !== "ok" ? <p className="small cap-note">{t(level === "over" ? "billing.cap.reached" : "billing.cap.near")}</p> : null}
        </div>
      ) : (
        <p className="muted small" data-testid="billing-no-cap">
          {t("billing.cap.none")}
        </p>
      )}
      <form className="form" onSubmit={onSave} noValidate data-testid="billing-preferences-form">
        <ErrorAlert messages={alert} />
        {saved ? (
          <Alert kind="success" testId="billing-preferences-saved">
            {t("billing.cap.saved")}
          </Alert>
        ) : null}
        <Field
          id="monthly_cap"
          label={t("billing.cap.field")}
          inputMode={currency === "IDR" ? "numeric" : "decimal"}
          value={form.monthly_cap}
          onChange={(e) => set("monthly_cap")(e.target.value)}
          errors={fieldErrors.monthly_cap}
          hint={t("billing.cap.hint")}
          suffix={currency}
          optionalLabel={t("common.optional")}
        />
        <div className="field">
          <label className="checkbox">
            <input
              id="auto_recharge"
              type="checkbox"
              checked={form.auto_recharge}
              onChange={(e) => set("auto_recharge")(e.target.checked)}
              aria-describedby={fieldErrors.auto_recharge ? "auto_recharge-error" : undefined}
              data-testid="billing-auto-recharge"
            />
            {t("billing.autoRecharge.field")}
          </label>
          {!data.balance.saved_card ? <div className="field-hint">{t("billing.autoRecharge.noCard")}</div> : null}
          {fieldErrors.auto_recharge ? (
            <div className="field-error" id="auto_recharge-error" data-testid="auto_recharge-error">
              {fieldErrors.auto_recharge.join(" ")}
            </div>
          ) : null}
        </div>
        {form.auto_recharge || fieldErrors.auto_recharge_below || fieldErrors.auto_recharge_amount ? (
          <div className="form-grid">
            <Field
              id="auto_recharge_below"
              label={t("billing.autoRecharge.below")}
              inputMode="numeric"
              value={form.auto_recharge_below}
              onChange={(e) => set("auto_recharge_below")(e.target.value)}
              errors={fieldErrors.auto_recharge_below}
              suffix={currency}
            />
            <Field
              id="auto_recharge_amount"
              label={t("billing.autoRecharge.amount")}
              inputMode="numeric"
              value={form.auto_recharge_amount}
              onChange={(e) => set("auto_recharge_amount")(e.target.value)}
              errors={fieldErrors.auto_recharge_amount}
              suffix={currency}
            />
          </div>
        ) : null}
        <div className="button-row">
          <button type="submit" className="btn btn-primary" disabled={saving} data-testid="billing-preferences-save">
            {t("common.save")}
          </button>
        </div>
      </form>
    </div>
  );
}

/* ---------- This month's usage ---------- */

type ChartMeasure = "price" | "messages";

function monthDays(from: string, to: string): string[] {
  const days: string[] = [];
  const [y, m, d] = from.split("-").map(Number);
  for (let i = 0; i < 31; i++) {
    const day = new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10);
    if (day > to) break;
    days.push(day);
  }
  return days;
}

/** Daily bars stacked by category, drawn in SVG like the analytics trend chart. */
export function UsageChart({ data, measure }: { data: BillingOverview; measure: ChartMeasure }) {
  const { t, lang } = useI18n();
  const categoryName = useCategoryName();
  const days = monthDays(data.usage.from, data.usage.to);
  const categories = [...new Set(data.usage.daily.map((row) => row.category))].sort(
    (a, b) => (CATEGORY_ORDER.indexOf(a) + 1 || 99) - (CATEGORY_ORDER.indexOf(b) + 1 || 99),
  );
  const value = (row: { messages: number; price: string }) => (measure === "price" ? Number(row.price) || 0 : row.messages || 0);
  const byDay = new Map<string, Map<string, { messages: number; price: string }>>();
  for (const row of data.usage.daily) {
    if (!byDay.has(row.day)) byDay.set(row.day, new Map());
    byDay.get(row.day)!.set(row.category, row);
  }
  const totals = days.map((day) => [...(byDay.get(day)?.values() ?? [])].reduce((sum, row) => sum + value(row), 0));
  const max = Math.max(...totals, 0) || 1;
  const W = 640;
  const H = 200;
  const pad = { l: 8, r: 8, t: 10, b: 26 };
  const innerW = W - pad.l - pad.r;
  const innerH = H - pad.t - pad.b;
  const slot = innerW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.7);
  const labelEvery = Math.max(1, Math.ceil(days.length / 8));
  const label = (day: string) => formatYmd(day, lang, { day: "numeric", month: "short" });
  const show = (v: number) => (measure === "price" ? formatAmount(v, data.currency, lang) : formatNumber(v, lang));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={t("billing.usage.chartLabel")} data-testid="billing-usage-chart" preserveAspectRatio="none">
        <line x1={pad.l} x2={W - pad.r} y1={pad.t + innerH} y2={pad.t + innerH} className="chart-axis" />
        {days.map((day, i) => {
          let y = pad.t + innerH;
          const x = pad.l + slot * i + (slot - barW) / 2;
          const rows = byDay.get(day);
          return (
            <g key={day} data-testid={`billing-usage-day-${day}`}>
              {categories.map((category) => {
                const row = rows?.get(category);
                const v = row ? value(row) : 0;
                if (!row || v <= 0) return null;
                const h = (innerH * v) / max;
                y -= h;
                return (
                  <rect key={category} className={`chart-seg chart-seg-${category}`} x={x} y={y} width={barW} height={h} data-testid="billing-usage-segment">
                    <title>{`${label(day)} · ${categoryName(category)}: ${t("billing.usage.tooltip", { messages: formatNumber(row.messages, lang), amount: formatAmount(row.price, data.currency, lang) })}`}</title>
                  </rect>
                );
              })}
            </g>
          );
        })}
        {days.map((day, i) =>
          i % labelEvery === 0 ? (
            <text key={day} x={pad.l + slot * i + slot / 2} y={H - 8} textAnchor="middle" className="chart-label">
              {label(day)}
            </text>
          ) : null,
        )}
      </svg>
      <figcaption className="chart-legend small">
        {categories.map((category) => (
          <span key={category} className="legend-item">
            <span className={`legend-swatch chart-seg-${category}`} aria-hidden="true" /> {categoryName(category)}
          </span>
        ))}
        <span className="legend-item">({t("analytics.max", { v: show(max) })})</span>
      </figcaption>
    </figure>
  );
}

function UsageCard({ data }: { data: BillingOverview }) {
  const { t, lang } = useI18n();
  const categoryName = useCategoryName();
  const [measure, setMeasure] = useState<ChartMeasure>("price");
  const usage = data.usage;
  const money = (v: string) => formatAmount(v, data.currency, lang);
  return (
    <div className="card" data-testid="billing-usage-card">
      <div className="card-head">
        <h2>{t("billing.usage.title")}</h2>
        <span className="muted small">{t("billing.usage.range", { from: formatYmd(usage.from, lang), to: formatYmd(usage.to, lang) })}</span>
      </div>
      {usage.by_category.length === 0 ? (
        <p className="muted" data-testid="billing-usage-empty">
          {t("billing.usage.empty")}
        </p>
      ) : (
        <>
          <div className="metric-strip">
            <div className="metric">
              <span className="metric-label">{t("billing.usage.total")}</span>
              <strong className="metric-value" data-testid="billing-usage-total">
                {money(usage.total_price)}
              </strong>
            </div>
            <div className="metric">
              <span className="metric-label">{t("billing.usage.projected")}</span>
              <strong className="metric-value" data-testid="billing-usage-projected">
                {money(usage.projected_price)}
              </strong>
            </div>
          </div>
          <div className="table-wrap">
            <table className="table" data-testid="billing-usage-table">
              <thead>
                <tr>
                  <th>{t("billing.usage.category")}</th>
                  <th className="num">{t("billing.usage.messages")}</th>
                  <th className="num">{t("billing.usage.billed")}</th>
                  <th className="num">{t("billing.usage.amount")}</th>
                </tr>
              </thead>
              <tbody>
                {usage.by_category.map((row) => (
                  <tr key={row.category} data-testid={`billing-usage-row-${row.category}`}>
                    <td data-label={t("billing.usage.category")}>{categoryName(row.category)}</td>
                    <td data-label={t("billing.usage.messages")} className="num">
                      {formatNumber(row.messages, lang)}
                    </td>
                    <td data-label={t("billing.usage.billed")} className="num">
                      {formatNumber(row.billable_messages, lang)}
                    </td>
                    <td data-label={t("billing.usage.amount")} className="num">
                      {money(row.price)}
                    </td>
                  </tr>
                ))}
                <tr className="row-total" data-testid="billing-usage-row-total">
                  <td data-label="">{t("billing.usage.totalRow")}</td>
                  <td data-label={t("billing.usage.messages")} className="num">
                    {formatNumber(usage.total_messages, lang)}
                  </td>
                  <td data-label={t("billing.usage.billed")} className="num">
                    {formatNumber(usage.total_billable, lang)}
                  </td>
                  <td data-label={t("billing.usage.amount")} className="num">
                    {money(usage.total_price)}
                  </td>
                </tr>
              </tbody>
            </table>
          </div>
          <div className="card-head chart-head">
            <h3 className="subhead">{t("billing.usage.daily")}</h3>
            <div className="segmented segmented-sm" role="group" aria-label={t("billing.usage.daily")}>
              {(["price", "messages"] as ChartMeasure[]).map((m) => (
                <button key={m} type="button" className={`seg${measure === m ? " active" : ""}`} aria-pressed={measure === m} onClick={() => setMeasure(m)} data-testid={`billing-chart-${m}`}>
                  {t(m === "price" ? "billing.usage.amount" : "billing.usage.messages")}
                </button>
              ))}
            </div>
          </div>
          <UsageChart data={data} measure={measure} />
        </>
      )}
    </div>
  );
}

/* ---------- Invoices ---------- */

function InvoicesCard({ currency }: { currency: string }) {
  const { t, lang } = useI18n();
  const fmt = useFormatters();
  const [invoices, setInvoices] = useState<BillingInvoice[] | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    endpoints.invoices().then(
      (list) => !cancelled && setInvoices(list),
      () => {
        if (cancelled) return;
        setInvoices([]);
        setFailed(true);
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <div className="card" data-testid="billing-invoices-card">
      <h2>{t("billing.invoices.title")}</h2>
      {invoices === null ? (
        <Spinner />
      ) : failed ? (
        <Alert kind="info" testId="billing-invoices-unavailable">
          {t("billing.invoices.unavailable")}
        </Alert>
      ) : invoices.length === 0 ? (
        <p className="muted" data-testid="billing-invoices-empty">
          {t("billing.invoices.empty")}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="billing-invoices-table">
            <thead>
              <tr>
                <th>{t("billing.invoices.number")}</th>
                <th>{t("billing.invoices.date")}</th>
                <th className="num">{t("billing.invoices.amount")}</th>
                <th>{t("billing.invoices.status")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {invoices.map((invoice) => (
                <tr key={invoice.id} data-testid={`billing-invoice-${invoice.id}`}>
                  <td data-label={t("billing.invoices.number")}>{invoice.number}</td>
                  <td data-label={t("billing.invoices.date")}>{fmt.date(new Date(invoice.created * 1000).toISOString())}</td>
                  <td data-label={t("billing.invoices.amount")} className="num">
                    {formatMinor(invoice.status === "paid" ? invoice.amount_paid : invoice.amount_due, invoice.currency || currency, lang)}
                  </td>
                  <td data-label={t("billing.invoices.status")}>
                    <span className={`badge ${invoice.status === "paid" ? "badge-ok" : invoice.status === "open" || invoice.status === "uncollectible" ? "badge-danger" : "badge-closed"}`}>
                      {invoiceStatus(invoice.status, t)}
                    </span>
                  </td>
                  <td className="actions">
                    {invoice.url ? (
                      <a href={invoice.url} target="_blank" rel="noreferrer" data-testid={`billing-invoice-link-${invoice.id}`}>
                        {t("billing.invoices.view")}
                      </a>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

const INVOICE_STATUS_KEYS: Record<string, TKey> = {
  paid: "billing.invoices.paid",
  open: "billing.invoices.open",
  draft: "billing.invoices.draft",
  void: "billing.invoices.void",
  uncollectible: "billing.invoices.uncollectible",
};

function invoiceStatus(status: string, t: (key: TKey) => string): string {
  return INVOICE_STATUS_KEYS[status] ? t(INVOICE_STATUS_KEYS[status]) : status;
}

/* ---------- The page ---------- */

/** Back from Stripe: what the return URL says happened, and which part of the overview the webhook will change. */
interface Arrival {
  kind: "topup" | "checkout" | "changed" | "topupCancelled" | "checkoutCancelled";
  state: "waiting" | "done" | "slow" | "info";
}

const WATCH: Partial<Record<Arrival["kind"], (o: BillingOverview) => string>> = {
  topup: (o) => o.balance.balance,
  checkout: (o) => `${o.plan?.code}/${o.subscription.status}`,
  changed: (o) => `${o.plan?.code}/${o.subscription.status}`,
};
// What the page last showed, kept across the trip to Stripe: the webhook often credits the payment before
// the customer is back, so the first overview after returning may already be the changed one.
const LAST_SEEN_KEY = "warung.billing.lastSeen";

function rememberSeen(o: BillingOverview) {
  const seen = Object.fromEntries(Object.entries(WATCH).map(([kind, watch]) => [kind, watch!(o)]));
  try {
    sessionStorage.setItem(LAST_SEEN_KEY, JSON.stringify(seen));
  } catch {
    /* private mode: fall back to the first overview after returning */
  }
}

function lastSeen(kind: Arrival["kind"]): string | undefined {
  try {
    return (JSON.parse(sessionStorage.getItem(LAST_SEEN_KEY) ?? "{}") as Record<string, string>)[kind];
  } catch {
    return undefined;
  }
}

export const POLL_EVERY_MS = 1500;
export const POLL_ATTEMPTS = 14; // ~20 s: the webhook credits the payment asynchronously

function arrivalFrom(search: string): Arrival | null {
  const params = new URLSearchParams(search);
  const topup = params.get("topup");
  const checkout = params.get("checkout");
  if (topup === "done") return { kind: "topup", state: "waiting" };
  if (topup === "cancelled") return { kind: "topupCancelled", state: "info" };
  if (checkout === "done") return { kind: "checkout", state: "waiting" };
  if (checkout === "changed") return { kind: "changed", state: "waiting" };
  if (checkout === "cancelled") return { kind: "checkoutCancelled", state: "info" };
  return null;
}

const ARRIVAL_KEYS: Record<Arrival["kind"], Partial<Record<Arrival["state"], TKey>>> = {
  topup: { waiting: "billing.arrival.topupWaiting", done: "billing.arrival.topupDone", slow: "billing.arrival.topupSlow" },
  checkout: { waiting: "billing.arrival.checkoutWaiting", done: "billing.arrival.checkoutDone", slow: "billing.arrival.checkoutSlow" },
  changed: { waiting: "billing.arrival.changedWaiting", done: "billing.arrival.checkoutDone", slow: "billing.arrival.checkoutSlow" },
  topupCancelled: { info: "billing.arrival.topupCancelled" },
  checkoutCancelled: { info: "billing.arrival.checkoutCancelled" },
};

export function BillingPage() {
  const { t, lang } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const [data, setData] = useState<BillingOverview | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const location = useLocation();
  const navigate = useNavigate();
  const [arrival, setArrival] = useState<Arrival | null>(() => arrivalFrom(location.search));

  function update(next: BillingOverview) {
    setData(next);
    publishBilling(next);
    rememberSeen(next);
  }

  useEffect(() => {
    if (!canManage) return;
    let cancelled = false;
    let timer: number | undefined;
    const watch = arrival ? WATCH[arrival.kind] : undefined;
    // Drop ?topup=done etc. so a reload does not announce the payment again.
    if (arrival) navigate(location.pathname, { replace: true });
    const seenBeforeLeaving = arrival ? lastSeen(arrival.kind) : undefined;
    endpoints.billing().then(
      (first) => {
        if (cancelled) return;
        update(first);
        if (!watch) return;
        if (seenBeforeLeaving !== undefined && watch(first) !== seenBeforeLeaving) {
          setArrival((a) => (a ? { ...a, state: "done" } : a));
          return;
        }
        const before = watch(first);
        let attempts = 0;
        const poll = () => {
          timer = window.setTimeout(async () => {
            attempts += 1;
            try {
              const next = await endpoints.billing();
              if (cancelled) return;
              if (watch(next) !== before) {
                update(next);
                setArrival((a) => (a ? { ...a, state: "done" } : a));
                return;
              }
            } catch {
              if (cancelled) return;
            }
            if (attempts >= POLL_ATTEMPTS) setArrival((a) => (a ? { ...a, state: "slow" } : a));
            else poll();
          }, POLL_EVERY_MS);
        };
        poll();
      },
      (err) => !cancelled && setLoadError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canManage]);

  if (!canManage) {
    return (
      <Alert kind="info" testId="billing-readonly">
        {t("billing.readOnly")}
      </Alert>
    );
  }
  if (loadError) {
    return (
      <Alert kind="error" testId="billing-error">
        {loadError}
      </Alert>
    );
  }
  if (!data) return <Spinner />;

  const arrivalKey = arrival ? ARRIVAL_KEYS[arrival.kind][arrival.state] : undefined;
  const arrivalKind = arrival?.state === "done" ? "success" : arrival?.state === "slow" ? "warning" : "info";
  return (
    <div className="stack billing-page">
      {arrivalKey ? (
        <Alert kind={arrivalKind} testId="billing-arrival">
          {t(arrivalKey, { balance: formatAmount(data.balance.available, data.currency, lang), plan: data.plan?.name ?? "" })}
        </Alert>
      ) : null}
      {data.read_only ? (
        <Alert kind="error" testId="billing-read-only">
          {data.read_only}
        </Alert>
      ) : null}
      {data.payment_warning ? (
        <Alert kind="warning" testId="billing-payment-warning">
          {data.payment_warning}
        </Alert>
      ) : null}
      <div className="billing-grid">
        <BalanceCard data={data} />
        <CapCard data={data} onSaved={update} />
      </div>
      <UsageCard data={data} />
      <PlanCard data={data} />
      <InvoicesCard currency={data.currency} />
    </div>
  );
}

/* ---------- Dashboard banner ---------- */

/**
 * Read-only shop, failed payment or a monthly cap at 80% / 100%: one request when the dashboard opens,
 * owners and admins only (agents cannot act on billing; their 403 is never shown).
 */
export function BillingBanner() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const [data, setData] = useState<BillingOverview | null>(null);

  useEffect(() => {
    billingListeners.add(setData);
    return () => {
      billingListeners.delete(setData);
    };
  }, []);

  useEffect(() => {
    if (!canManage) return;
    let cancelled = false;
    endpoints.billing().then(
      (overview) => !cancelled && setData((current) => current ?? overview),
      () => {},
    );
    return () => {
      cancelled = true;
    };
  }, [canManage]);

  if (!canManage || !data) return null;
  const percent = data.cap.percent ?? 0;
  const messages: string[] = [];
  if (data.read_only) messages.push(data.read_only);
  if (data.payment_warning) messages.push(data.payment_warning);
  if (percent >= 100) messages.push(t("billing.banner.capReached"));
  else if (percent >= 80) messages.push(t("billing.banner.capNear", { percent }));
  if (messages.length === 0) return null;
  const severe = Boolean(data.read_only) || percent >= 100;
  return (
    <div className={`alert ${severe ? "alert-error" : "alert-warning"} billing-banner`} role={severe ? "alert" : "status"} data-testid="billing-banner">
      <div>
        {messages.map((m, i) => (
          <div key={i}>{m}</div>
        ))}
      </div>
      <Link to="/settings/billing" className="btn btn-secondary btn-sm" data-testid="billing-banner-link">
        {t("billing.banner.open")}
      </Link>
    </div>
  );
}
