import { useEffect, useState, type FormEvent } from "react";
import { endpoints, WEEKDAYS, type AutoReplyPayload, type AutoReplyRule, type BusinessHours, type RuleKind, type RuleTestResult, type Weekday } from "../../api";
import { Alert, ErrorAlert } from "../../components/Alert";
import { errorMessage, loadList, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { DEFAULT_TIMEZONE } from "../../config";
import { zonedToIso } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useSession, useShop } from "../../session";

const KINDS: RuleKind[] = ["greeting", "keyword", "away"];
const RULE_FIELDS = ["name", "kind", "keywords", "reply_text", "reply_buttons", "reply_list", "priority", "cooldown_minutes", "active"] as const;
export const MAX_LIST_ROWS = 10;
export const MAX_ROW_CHARS = 24;
export const MAX_BUTTONS = 3;
export const MAX_BUTTON_CHARS = 20;

interface RuleForm {
  name: string;
  kind: RuleKind;
  keywords: string;
  reply_text: string;
  reply_buttons: string;
  list_button: string;
  list_rows: string;
  priority: string;
  cooldown_minutes: string;
  active: boolean;
}

const EMPTY_RULE: RuleForm = { name: "", kind: "keyword", keywords: "", reply_text: "", reply_buttons: "", list_button: "", list_rows: "", priority: "10", cooldown_minutes: "0", active: true };

export function splitList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function toForm(rule: AutoReplyRule): RuleForm {
  return {
    name: rule.name,
    kind: rule.kind,
    keywords: (rule.keywords ?? []).join(", "),
    reply_text: rule.reply_text,
    reply_buttons: (rule.reply_buttons ?? []).join(", "),
    list_button: rule.reply_list?.button ?? "",
    list_rows: (rule.reply_list?.rows ?? []).join(", "),
    priority: String(rule.priority ?? 0),
    cooldown_minutes: String(rule.cooldown_minutes ?? 0),
    active: rule.active,
  };
}

const kindKey = (kind: string): TKey => (KINDS.includes(kind as RuleKind) ? (`rules.kind.${kind}` as TKey) : "rules.kind.keyword");

/* ---------- Rules ---------- */

function RulesCard() {
  const { t } = useI18n();
  const [rules, setRules] = useState<AutoReplyRule[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [form, setForm] = useState<RuleForm>(EMPTY_RULE);
  const [editing, setEditing] = useState<number | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [busyId, setBusyId] = useState<number | null>(null);

  useEffect(() => {
    return loadList(endpoints.autoReplies(), setRules, setError, t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const sorted = (list: AutoReplyRule[]) => [...list].sort((a, b) => a.priority - b.priority || a.id - b.id);
  const set = (key: keyof RuleForm) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));

  function validate(): Record<string, string[]> {
    const errors: Record<string, string[]> = {};
    const buttons = splitList(form.reply_buttons);
    if (buttons.length > MAX_BUTTONS) errors.reply_buttons = [t("rules.tooManyButtons", { max: MAX_BUTTONS })];
    else if (buttons.some((b) => b.length > MAX_BUTTON_CHARS)) errors.reply_buttons = [t("rules.buttonTooLong", { max: MAX_BUTTON_CHARS })];
    const rows = splitList(form.list_rows);
    if (rows.length > MAX_LIST_ROWS || rows.some((r) => r.length > MAX_ROW_CHARS)) errors.reply_list = [t("rules.listRowsInvalid", { max: MAX_LIST_ROWS, chars: MAX_ROW_CHARS })];
    else if (rows.length && !form.list_button.trim()) errors.reply_list = [t("rules.listButtonRequired")];
    if (form.kind === "keyword" && splitList(form.keywords).length === 0) errors.keywords = [t("rules.keywordsRequired")];
    return errors;
  }

  async function onSave(e: FormEvent) {
    e.preventDefault();
    setAlert([]);
    const local = validate();
    setFieldErrors(local);
    if (Object.keys(local).length) return;
    setSaving(true);
    const payload: AutoReplyPayload = {
      name: form.name.trim(),
      kind: form.kind,
      keywords: form.kind === "keyword" ? splitList(form.keywords) : [],
      reply_text: form.reply_text,
      reply_buttons: splitList(form.reply_buttons),
      reply_list: splitList(form.list_rows).length ? { button: form.list_button.trim(), rows: splitList(form.list_rows) } : {},
      priority: Number(form.priority) || 0,
      cooldown_minutes: Number(form.cooldown_minutes) || 0,
      active: form.active,
    };
    try {
      if (editing !== null) {
        const updated = await endpoints.updateAutoReply(editing, payload);
        setRules((list) => sorted((list ?? []).map((r) => (r.id === editing ? (updated ? { ...r, ...updated } : { ...r, ...payload }) : r))));
      } else {
        const created = await endpoints.createAutoReply(payload);
        setRules((list) => sorted([...(list ?? []), created]));
      }
      setForm(EMPTY_RULE);
      setEditing(null);
    } catch (err) {
      const split = splitErrors(err, RULE_FIELDS, t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  async function toggle(rule: AutoReplyRule) {
    setBusyId(rule.id);
    setError(null);
    try {
      const updated = await endpoints.updateAutoReply(rule.id, { active: !rule.active });
      setRules((list) => (list ?? []).map((r) => (r.id === rule.id ? (updated ? { ...r, ...updated } : { ...r, active: !rule.active }) : r)));
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusyId(null);
    }
  }

  async function remove(rule: AutoReplyRule) {
    if (!window.confirm(t("rules.confirmDelete", { name: rule.name }))) return;
    setBusyId(rule.id);
    setError(null);
    try {
      await endpoints.deleteAutoReply(rule.id);
      setRules((list) => (list ?? []).filter((r) => r.id !== rule.id));
      if (editing === rule.id) {
        setEditing(null);
        setForm(EMPTY_RULE);
      }
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusyId(null);
    }
  }

  return (
    <>
      <div className="card">
        <h2>{editing !== null ? t("rules.edit") : t("rules.new")}</h2>
        <p className="muted small">{t("rules.intro")}</p>
        <form className="form" onSubmit={onSave} noValidate data-testid="rule-form">
          <ErrorAlert messages={alert} />
          <div className="form-grid">
            <Field id="rule_name" label={t("rules.name")} value={form.name} onChange={set("name")} errors={fieldErrors.name} data-testid="rule-name" required autoComplete="off" />
            <div className={`field${fieldErrors.kind ? " field-invalid" : ""}`}>
              <label htmlFor="rule_kind">{t("rules.kind")}</label>
              <select id="rule_kind" data-testid="rule-kind" value={form.kind} onChange={(e) => setForm((f) => ({ ...f, kind: e.target.value as RuleKind }))}>
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(kindKey(k))}
                  </option>
                ))}
              </select>
              <div className="field-hint">{t(`rules.kindHint.${form.kind}` as TKey)}</div>
              {fieldErrors.kind ? <div className="field-error">{fieldErrors.kind.join(" ")}</div> : null}
            </div>
          </div>
          <Field
            id="rule_keywords"
            label={t("rules.keywords")}
            value={form.keywords}
            onChange={set("keywords")}
            errors={fieldErrors.keywords}
            data-testid="rule-keywords"
            placeholder={t("rules.keywordsPlaceholder")}
            hint={t("rules.keywordsHint")}
            autoComplete="off"
          />
          <div className={`field${fieldErrors.reply_text ? " field-invalid" : ""}`}>
            <label htmlFor="rule_reply">{t("rules.reply")}</label>
            <textarea id="rule_reply" rows={3} data-testid="rule-reply" value={form.reply_text} onChange={set("reply_text")} />
            {fieldErrors.reply_text ? (
              <div className="field-error" data-testid="rule_reply-error">
                {fieldErrors.reply_text.join(" ")}
              </div>
            ) : null}
          </div>
          <Field
            id="rule_buttons"
            label={t("rules.buttons")}
            optionalLabel={t("common.optional")}
            value={form.reply_buttons}
            onChange={set("reply_buttons")}
            errors={fieldErrors.reply_buttons}
            data-testid="rule-buttons"
            hint={t("rules.buttonsHint", { max: MAX_BUTTONS, chars: MAX_BUTTON_CHARS })}
            autoComplete="off"
          />
          <div className="form-grid form-grid-3">
            <Field
              id="rule_list_button"
              label={t("rules.listButton")}
              optionalLabel={t("common.optional")}
              value={form.list_button}
              onChange={set("list_button")}
              data-testid="rule-list-button"
              autoComplete="off"
            />
            <Field
              id="rule_list_rows"
              label={t("rules.listRows")}
              optionalLabel={t("common.optional")}
              value={form.list_rows}
              onChange={set("list_rows")}
              errors={fieldErrors.reply_list}
              data-testid="rule-list-rows"
              hint={t("rules.listRowsHint", { max: MAX_LIST_ROWS, chars: MAX_ROW_CHARS })}
              autoComplete="off"
            />
          </div>
          <div className="form-grid form-grid-3">
            <Field id="rule_priority" type="number" label={t("rules.priority")} value={form.priority} onChange={set("priority")} errors={fieldErrors.priority} data-testid="rule-priority" hint={t("rules.priorityHint")} />
            <Field id="rule_cooldown" type="number" min={0} label={t("rules.cooldown")} value={form.cooldown_minutes} onChange={set("cooldown_minutes")} errors={fieldErrors.cooldown_minutes} data-testid="rule-cooldown" />
            <label className="checkbox field-checkbox">
              <input type="checkbox" checked={form.active} onChange={(e) => setForm((f) => ({ ...f, active: e.target.checked }))} data-testid="rule-active" />
              {t("rules.active")}
            </label>
          </div>
          <div className="button-row">
            <button type="submit" className="btn btn-primary" disabled={saving} data-testid="rule-save">
              {editing !== null ? t("common.save") : t("rules.add")}
            </button>
            {editing !== null ? (
              <button
                type="button"
                className="btn btn-ghost"
                onClick={() => {
                  setEditing(null);
                  setForm(EMPTY_RULE);
                  setFieldErrors({});
                  setAlert([]);
                }}
              >
                {t("common.cancel")}
              </button>
            ) : null}
          </div>
        </form>
      </div>

      <div className="card">
        <h2>{t("rules.title")}</h2>
        {error ? (
          <Alert kind="error" testId="rules-error">
            {error}
          </Alert>
        ) : null}
        {rules === null ? (
          <Spinner />
        ) : rules.length === 0 ? (
          <p className="muted" data-testid="rules-empty">
            {t("rules.empty")}
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="rules-table">
              <thead>
                <tr>
                  <th>{t("rules.name")}</th>
                  <th>{t("rules.kind")}</th>
                  <th>{t("rules.keywords")}</th>
                  <th>{t("rules.reply")}</th>
                  <th>{t("rules.priority")}</th>
                  <th>{t("rules.active")}</th>
                  <th className="actions" />
                </tr>
              </thead>
              <tbody>
                {rules.map((r) => (
                  <tr key={r.id} data-testid={`rule-row-${r.id}`} className={r.active ? undefined : "row-inactive"}>
                    <td data-label={t("rules.name")}>{r.name}</td>
                    <td data-label={t("rules.kind")}>{t(kindKey(r.kind))}</td>
                    <td data-label={t("rules.keywords")}>{r.keywords?.length ? r.keywords.join(", ") : "—"}</td>
                    <td data-label={t("rules.reply")} className="cell-text">
                      {r.reply_text}
                      {r.reply_buttons?.length ? <div className="muted small">[{r.reply_buttons.join("] [")}]</div> : null}
                    </td>
                    <td data-label={t("rules.priority")}>{r.priority}</td>
                    <td data-label={t("rules.active")}>
                      <label className="switch">
                        <input
                          type="checkbox"
                          checked={r.active}
                          disabled={busyId === r.id}
                          aria-label={`${t("rules.active")}: ${r.name}`}
                          data-testid={`rule-toggle-${r.id}`}
                          onChange={() => void toggle(r)}
                        />
                      </label>
                    </td>
                    <td className="actions">
                      <button
                        type="button"
                        className="btn btn-ghost btn-sm"
                        data-testid={`rule-edit-${r.id}`}
                        onClick={() => {
                          setEditing(r.id);
                          setForm(toForm(r));
                          setFieldErrors({});
                          setAlert([]);
                        }}
                      >
                        {t("common.edit")}
                      </button>
                      <button type="button" className="btn btn-danger-ghost btn-sm" disabled={busyId === r.id} data-testid={`rule-delete-${r.id}`} onClick={() => void remove(r)}>
                        {t("common.delete")}
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </>
  );
}

/* ---------- Business hours ---------- */

type Ranges = [string, string][];

function HoursCard() {
  const { t } = useI18n();
  const [hours, setHours] = useState<BusinessHours | null>(null);
  const [weekly, setWeekly] = useState<Record<Weekday, Ranges>>(() => Object.fromEntries(WEEKDAYS.map((d) => [d, []])) as unknown as Record<Weekday, Ranges>);
  const [holidays, setHolidays] = useState<string[]>([]);
  const [newHoliday, setNewHoliday] = useState("");
  const [saving, setSaving] = useState(false);
  const [result, setResult] = useState<{ kind: "success" | "error"; text: string } | null>(null);

  function apply(data: BusinessHours) {
    setHours(data);
    setWeekly(Object.fromEntries(WEEKDAYS.map((d) => [d, (data.weekly?.[d] ?? []).map((r) => [r[0], r[1]] as [string, string])])) as unknown as Record<Weekday, Ranges>);
    setHolidays([...(data.holidays ?? [])].sort());
  }

  useEffect(() => {
    let cancelled = false;
    endpoints
      .businessHours()
      .then((data) => !cancelled && apply(data))
      .catch((err) => {
        if (cancelled) return;
        setHours({ weekly: {}, holidays: [], timezone: DEFAULT_TIMEZONE });
        setResult({ kind: "error", text: errorMessage(err, t) });
      });
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const setDay = (day: Weekday, ranges: Ranges) => setWeekly((w) => ({ ...w, [day]: ranges }));

  async function save() {
    setSaving(true);
    setResult(null);
    try {
      const data = await endpoints.saveBusinessHours({ weekly, holidays });
      if (data && data.weekly) apply(data);
      setResult({ kind: "success", text: t("hours.saved") });
    } catch (err) {
      setResult({ kind: "error", text: errorMessage(err, t) });
    } finally {
      setSaving(false);
    }
  }

  if (!hours) {
    return (
      <div className="card">
        <Spinner />
      </div>
    );
  }

  return (
    <div className="card" data-testid="hours-card">
      <h2>{t("hours.title")}</h2>
      <p className="muted small">{t("hours.intro", { tz: hours.timezone || DEFAULT_TIMEZONE })}</p>
      <div className="hours-grid">
        {WEEKDAYS.map((day) => {
          const ranges = weekly[day] ?? [];
          const open = ranges.length > 0;
          return (
            <div className="hours-day" key={day} data-testid={`hours-day-${day}`}>
              <label className="checkbox hours-day-name">
                <input
                  type="checkbox"
                  checked={open}
                  data-testid={`hours-open-${day}`}
                  onChange={(e) => setDay(day, e.target.checked ? [["09:00", "17:00"]] : [])}
                />
                {t(`day.${day}` as TKey)}
              </label>
              <div className="hours-ranges">
                {!open ? <span className="muted small">{t("hours.closed")}</span> : null}
                {ranges.map((range, i) => (
                  <div className="hours-range" key={i}>
                    <input
                      type="time"
                      aria-label={`${t(`day.${day}` as TKey)} ${t("hours.from")}`}
                      value={range[0]}
                      data-testid={`hours-${day}-${i}-start`}
                      onChange={(e) => setDay(day, ranges.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))}
                    />
                    <span aria-hidden="true">–</span>
                    <input
                      type="time"
                      aria-label={`${t(`day.${day}` as TKey)} ${t("hours.to")}`}
                      value={range[1]}
                      data-testid={`hours-${day}-${i}-end`}
                      onChange={(e) => setDay(day, ranges.map((r, j) => (j === i ? [r[0], e.target.value] : r)))}
                    />
                    <button type="button" className="btn btn-ghost btn-sm" aria-label={t("hours.removeRange")} onClick={() => setDay(day, ranges.filter((_, j) => j !== i))}>
                      ×
                    </button>
                  </div>
                ))}
                {open ? (
                  <button
                    type="button"
                    className="btn btn-ghost btn-sm"
                    data-testid={`hours-add-${day}`}
                    onClick={() => setDay(day, [...ranges, [ranges[ranges.length - 1]?.[1] ?? "09:00", "21:00"]])}
                  >
                    + {t("hours.addRange")}
                  </button>
                ) : null}
              </div>
            </div>
          );
        })}
      </div>
      <h3 className="subhead">{t("hours.holidays")}</h3>
      <div className="holiday-add">
        <input type="date" aria-label={t("hours.holidayDate")} value={newHoliday} onChange={(e) => setNewHoliday(e.target.value)} data-testid="holiday-date" />
        <button
          type="button"
          className="btn btn-secondary btn-sm"
          data-testid="holiday-add"
          disabled={!newHoliday}
          onClick={() => {
            if (newHoliday && !holidays.includes(newHoliday)) setHolidays((h) => [...h, newHoliday].sort());
            setNewHoliday("");
          }}
        >
          {t("hours.addHoliday")}
        </button>
      </div>
      {holidays.length === 0 ? (
        <p className="muted small">{t("hours.noHolidays")}</p>
      ) : (
        <ul className="chips" data-testid="holidays-list">
          {holidays.map((d) => (
            <li key={d} className="chip">
              {d}
              <button type="button" className="chip-remove" aria-label={`${t("common.delete")} ${d}`} onClick={() => setHolidays((h) => h.filter((x) => x !== d))}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {result ? (
        <Alert kind={result.kind} testId="hours-result">
          {result.text}
        </Alert>
      ) : null}
      <div className="button-row">
        <button type="button" className="btn btn-primary" disabled={saving} data-testid="hours-save" onClick={() => void save()}>
          {t("hours.save")}
        </button>
      </div>
    </div>
  );
}

/* ---------- Rule tester ---------- */

function TesterCard() {
  const { t } = useI18n();
  const shop = useShop();
  const [text, setText] = useState("");
  const [first, setFirst] = useState(false);
  const [at, setAt] = useState("");
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<RuleTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function run(e: FormEvent) {
    e.preventDefault();
    setRunning(true);
    setError(null);
    setResult(null);
    try {
      const iso = at ? zonedToIso(at, shop?.timezone) : null;
      setResult(await endpoints.testAutoReply({ text, first_message: first, ...(iso ? { at: iso } : {}) }));
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setRunning(false);
    }
  }

  return (
    <div className="card">
      <h2>{t("tester.title")}</h2>
      <p className="muted small">{t("tester.intro")}</p>
      <form className="form" onSubmit={run} noValidate>
        <Field id="rule_test_text" label={t("tester.text")} value={text} onChange={(e) => setText(e.target.value)} data-testid="rule-test-text" autoComplete="off" placeholder={t("tester.placeholder")} />
        <div className="form-grid">
          <label className="checkbox field-checkbox">
            <input type="checkbox" checked={first} onChange={(e) => setFirst(e.target.checked)} data-testid="rule-test-first" />
            {t("tester.firstMessage")}
          </label>
          <Field id="rule_test_at" type="datetime-local" label={t("tester.at")} optionalLabel={t("common.optional")} value={at} onChange={(e) => setAt(e.target.value)} data-testid="rule-test-at" hint={t("tester.atHint", { tz: shop?.timezone || DEFAULT_TIMEZONE })} />
        </div>
        <div>
          <button type="submit" className="btn btn-secondary" disabled={running} data-testid="rule-test-run">
            {t("tester.run")}
          </button>
        </div>
      </form>
      {error ? (
        <Alert kind="error" testId="rule-test-result">
          {error}
        </Alert>
      ) : result ? (
        <div className={`alert ${result.rule ? "alert-success" : "alert-info"} tester-result`} role="status" data-testid="rule-test-result" data-rule-id={result.rule?.id ?? ""}>
          {result.rule ? (
            <>
              <div>
                {t("tester.matched")} <strong>{result.rule.name}</strong> ({t(kindKey(result.rule.kind))})
              </div>
              {result.reply_text ? <blockquote className="tester-reply">{result.reply_text}</blockquote> : null}
            </>
          ) : (
            t("tester.noMatch")
          )}
        </div>
      ) : null}
    </div>
  );
}

export function AutoRepliesPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  if (!canManage) {
    return (
      <Alert kind="info" testId="rules-forbidden">
        {t("rules.forbidden")}
      </Alert>
    );
  }
  return (
    <div className="stack">
      <RulesCard />
      <HoursCard />
      <TesterCard />
    </div>
  );
}
