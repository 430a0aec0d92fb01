import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate, useParams } from "react-router-dom";
import { Alert } from "../../components/Alert";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { zonedToIso } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useShop } from "../../session";
import {
  broadcastApi,
  isRecurring,
  placeholderCount,
  REPEATS,
  TRIGGERS,
  type Audience,
  type Broadcast,
  type BroadcastOptions,
  type BroadcastPayload,
  type BroadcastVariable,
  type Repeat,
  type Trigger,
  type VariableSource,
} from "./api";
import { AudienceContacts } from "./AudienceContacts";
import { AudienceUpload } from "./AudienceUpload";

const SOURCES: { value: VariableSource; key: TKey }[] = [
  { value: "field", key: "broadcasts.compose.source.field" },
  { value: "attribute", key: "broadcasts.compose.source.attribute" },
  { value: "text", key: "broadcasts.compose.source.text" },
];

const HEADER_KEYS: Record<string, TKey> = {
  image: "broadcasts.compose.header.image",
  video: "broadcasts.compose.header.video",
  document: "broadcasts.compose.header.document",
};

/** Fields the API names in its refusals ({field: [message]}); shown under the field they belong to. */
const SERVER_FIELDS = [
  "name",
  "template_id",
  "variables",
  "header_media_url",
  "audience",
  "exclude_segments",
  "frequency_cap_hours",
  "attribution_days",
  "repeat",
  "trigger",
  "trigger_days",
  "trigger_hours",
];

/** The API's limits for a trigger's numbers: a year of days, two weeks of hours. */
export const MAX_TRIGGER_DAYS = 365;
export const MAX_TRIGGER_HOURS = 24 * 14;

export const DEFAULT_FREQUENCY_CAP_HOURS = 24;
/** The API's limit for the frequency cap: thirty days. */
export const MAX_FREQUENCY_CAP_HOURS = 24 * 30;
export const DEFAULT_ATTRIBUTION_DAYS = 7;

/** What the form edits; numbers stay text until they are checked. */
export interface ComposeForm {
  name: string;
  templateId: number | null;
  variables: BroadcastVariable[];
  headerMediaUrl: string;
  audience: Audience;
  excludeSegments: number[];
  frequencyCapHours: string;
  attributionDays: string;
  /** Once (now or at a time), repeating from a first send, or on an event. */
  when: "now" | "later" | "repeat" | "trigger";
  /** "YYYY-MM-DDTHH:mm" in the shop's time zone: the send time, or a repeat's first send. */
  at: string;
  repeat: Exclude<Repeat, "">;
  trigger: Exclude<Trigger, "">;
  triggerDays: string;
  triggerHours: string;
}

type Errors = Record<string, string[]>;

function emptyForm(): ComposeForm {
  return {
    name: "",
    templateId: null,
    variables: [],
    headerMediaUrl: "",
    audience: { segments: [], groups: [], labels: [], contacts: [] },
    excludeSegments: [],
    frequencyCapHours: String(DEFAULT_FREQUENCY_CAP_HOURS),
    attributionDays: String(DEFAULT_ATTRIBUTION_DAYS),
    when: "now",
    at: "",
    repeat: "weekly",
    trigger: "birthday",
    triggerDays: "3",
    triggerHours: "2",
  };
}

/** An ISO instant as the value of a datetime-local input in the shop's time zone. */
function isoToZonedInput(iso: string, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(new Date(iso));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return `${get("year")}-${get("month")}-${get("day")}T${get("hour")}:${get("minute")}`;
}

function formFrom(b: Broadcast, timeZone: string): ComposeForm {
  return {
    name: b.name,
    templateId: b.template?.id ?? null,
    variables: b.variables ?? [],
    headerMediaUrl: b.header_media_url ?? "",
    audience: {
      segments: b.audience?.segments ?? [],
      groups: b.audience?.groups ?? [],
      labels: b.audience?.labels ?? [],
      contacts: b.audience?.contacts ?? [],
    },
    excludeSegments: b.exclude_segments ?? [],
    frequencyCapHours: String(b.frequency_cap_hours ?? DEFAULT_FREQUENCY_CAP_HOURS),
    attributionDays: String(b.attribution_days ?? DEFAULT_ATTRIBUTION_DAYS),
    when: b.repeat ? "repeat" : b.trigger ? "trigger" : b.scheduled_at ? "later" : "now",
    at: b.next_run_at || b.scheduled_at ? isoToZonedInput((b.next_run_at || b.scheduled_at) as string, timeZone) : "",
    repeat: b.repeat || "weekly",
    trigger: b.trigger || "birthday",
    triggerDays: String(b.trigger_days || 3),
    triggerHours: String(b.trigger_hours || 2),
  };
}

/** One variable per {{n}} of the template: what is there is kept, the rest start as a contact field. */
function fitVariables(variables: BroadcastVariable[], count: number, firstField: string): BroadcastVariable[] {
  return Array.from({ length: count }, (_, i) => variables[i] ?? { source: "field", value: firstField, fallback: "" });
}

function wholeNumber(text: string): number | null {
  return /^\d+$/.test(text.trim()) ? Number(text.trim()) : null;
}

/** The form's mistakes before anything is sent, keyed like the API's fields. */
export function validateCompose(form: ComposeForm, options: BroadcastOptions, timeZone: string, t: (key: TKey) => string, now = Date.now()): Errors {
  const errors: Errors = {};
  const add = (field: string, key: TKey) => (errors[field] = [...(errors[field] ?? []), t(key)]);
  if (!form.name.trim()) add("name", "broadcasts.compose.error.name");
  const template = options.templates.find((tpl) => tpl.id === form.templateId);
  if (!template) add("template_id", "broadcasts.compose.error.template");
  form.variables.forEach((v, i) => {
    if (!v.value.trim()) add(`variables.${i}.value`, v.source === "text" ? "broadcasts.compose.error.text" : "broadcasts.compose.error.source");
    if (v.source !== "text" && !v.fallback.trim()) add(`variables.${i}.fallback`, "broadcasts.compose.error.fallback");
  });
  if (template?.header_format) {
    if (!form.headerMediaUrl.trim()) add("header_media_url", "broadcasts.compose.error.headerRequired");
    else if (!/^https?:\/\/\S+$/i.test(form.headerMediaUrl.trim())) add("header_media_url", "broadcasts.compose.error.headerUrl");
  }
  const a = form.audience;
  // A trigger chooses by itself (whoever has a birthday, ordered, left a cart); an audience only narrows it.
  const nobody = !a.segments.length && !a.groups.length && !a.labels.length && !a.contacts.length;
  if (nobody && form.when !== "trigger") add("audience", "broadcasts.compose.error.audience");
  const cap = wholeNumber(form.frequencyCapHours);
  if (cap === null || cap > MAX_FREQUENCY_CAP_HOURS) add("frequency_cap_hours", "broadcasts.compose.error.frequencyCap");
  const days = wholeNumber(form.attributionDays);
  if (days === null || days < 1 || days > 90) add("attribution_days", "broadcasts.compose.error.attribution");
  if (form.when === "later" || form.when === "repeat") {
    const iso = zonedToIso(form.at, timeZone);
    if (!iso) add("scheduled_at", "broadcasts.compose.error.scheduleMissing");
    else if (new Date(iso).getTime() <= now) add("scheduled_at", "broadcasts.compose.error.schedulePast");
  }
  if (form.when === "trigger" && form.trigger === "days_after_order") {
    const n = wholeNumber(form.triggerDays);
    if (n === null || n < 1 || n > MAX_TRIGGER_DAYS) add("trigger_days", "broadcasts.compose.error.triggerDays");
  }
  if (form.when === "trigger" && form.trigger === "cart_left") {
    const n = wholeNumber(form.triggerHours);
    if (n === null || n < 1 || n > MAX_TRIGGER_HOURS) add("trigger_hours", "broadcasts.compose.error.triggerHours");
  }
  return errors;
}

/** The fields to save; a one-off says nothing of repeats and triggers unless it was one (`clearSchedule`). */
export function payloadOf(form: ComposeForm, clearSchedule = false): BroadcastPayload {
  const repeat = form.when === "repeat" ? form.repeat : "";
  const trigger = form.when === "trigger" ? form.trigger : "";
  return {
    name: form.name.trim(),
    template_id: form.templateId as number,
    variables: form.variables.map((v) => ({ source: v.source, value: v.value.trim(), fallback: v.source === "text" ? "" : v.fallback.trim() })),
    header_media_url: form.headerMediaUrl.trim(),
    audience: form.audience,
    exclude_segments: form.excludeSegments,
    frequency_cap_hours: Number(form.frequencyCapHours.trim()),
    attribution_days: Number(form.attributionDays.trim()),
    ...(repeat || trigger || clearSchedule ? { repeat, trigger } : {}),
    ...(trigger === "days_after_order" ? { trigger_days: Number(form.triggerDays.trim()) } : {}),
    ...(trigger === "cart_left" ? { trigger_hours: Number(form.triggerHours.trim()) } : {}),
  };
}

function toggle<T>(list: T[], item: T): T[] {
  return list.includes(item) ? list.filter((x) => x !== item) : [...list, item];
}

/** A row of toggle chips: a multi-select that shows every choice at once. */
function ChipSelect<T extends string | number>({
  legend,
  choices,
  selected,
  onToggle,
  testId,
  empty,
}: {
  legend: string;
  choices: { value: T; label: string }[];
  selected: T[];
  onToggle: (value: T) => void;
  testId: string;
  empty: string;
}) {
  return (
    <fieldset className="fieldset field" data-testid={testId}>
      <legend className="label">{legend}</legend>
      {choices.length === 0 ? (
        <p className="muted small">{empty}</p>
      ) : (
        <ul className="chips chips-inline">
          {choices.map((c) => (
            <li key={String(c.value)}>
              <button type="button" className="chip" aria-pressed={selected.includes(c.value)} onClick={() => onToggle(c.value)} data-testid={`${testId}-${c.value}`}>
                {c.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

function FieldErrors({ id, errors }: { id: string; errors?: string[] }) {
  if (!errors?.length) return null;
  return (
    <div className="field-error" id={`${id}-error`} data-testid={`${id}-error`}>
      {errors.map((e, i) => (
        <div key={i}>{e}</div>
      ))}
    </div>
  );
}

export function BroadcastComposePage() {
  const { broadcastId } = useParams();
  const id = broadcastId ? Number(broadcastId) : null;
  const { t } = useI18n();
  const shop = useShop();
  const timeZone = shop?.timezone || "Asia/Jakarta";
  const navigate = useNavigate();
  const location = useLocation();
  const [options, setOptions] = useState<BroadcastOptions | null>(null);
  const [form, setForm] = useState<ComposeForm>(emptyForm);
  const [loaded, setLoaded] = useState<Broadcast | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  // A new draft's first save moves to its own address and says so there.
  const [alert, setAlert] = useState<{ kind: "error" | "success"; text: string } | null>(() =>
    (location.state as { saved?: boolean } | null)?.saved ? { kind: "success", text: t("broadcasts.compose.saved") } : null,
  );
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let cancelled = false;
    Promise.all([broadcastApi.options(), id !== null ? broadcastApi.get(id) : Promise.resolve(null)]).then(
      ([opts, broadcast]) => {
        if (cancelled) return;
        setOptions(opts);
        if (broadcast) {
          setLoaded(broadcast);
          setForm(formFrom(broadcast, timeZone));
        } else {
          setLoaded(null);
          setForm(emptyForm());
        }
      },
      (err) => {
        if (cancelled) return;
        setOptions({ templates: [], fields: [], attributes: [], segments: [], groups: [], labels: [] });
        setAlert({ kind: "error", text: errorMessage(err, t) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, [id, t, timeZone]);

  const template = useMemo(() => options?.templates.find((tpl) => tpl.id === form.templateId) ?? null, [options, form.templateId]);
  const firstField = options?.fields[0]?.key ?? "";

  function update(changes: Partial<ComposeForm>) {
    setForm((old) => ({ ...old, ...changes }));
  }

  function chooseTemplate(value: string) {
    const tpl = options?.templates.find((x) => String(x.id) === value) ?? null;
    setForm((old) => ({
      ...old,
      templateId: tpl?.id ?? null,
      variables: fitVariables(old.variables, placeholderCount(tpl), firstField),
      headerMediaUrl: tpl?.header_format ? old.headerMediaUrl : "",
    }));
  }

  function setVariable(index: number, changes: Partial<BroadcastVariable>) {
    setForm((old) => ({ ...old, variables: old.variables.map((v, i) => (i === index ? { ...v, ...changes } : v)) }));
  }

  function changeSource(index: number, source: VariableSource) {
    const first = source === "field" ? firstField : source === "attribute" ? (options?.attributes[0]?.key ?? "") : "";
    setVariable(index, { source, value: first });
  }

  async function save(next: "stay" | "review") {
    if (!options) return;
    const found = validateCompose(form, options, timeZone, t);
    setErrors(found);
    setAlert(null);
    if (Object.keys(found).length) {
      setAlert({ kind: "error", text: t("broadcasts.compose.fixErrors") });
      return;
    }
    setSaving(true);
    try {
      const payload = payloadOf(form, loaded ? isRecurring(loaded) : false);
      const saved = id !== null ? await broadcastApi.update(id, payload) : await broadcastApi.create(payload);
      if (next === "review" && isRecurring(saved)) {
        // Repeating or triggered: activating it is the send; each occurrence is checked and costed when it runs.
        if (saved.status === "draft") await broadcastApi.send(saved.id, form.when === "repeat" ? zonedToIso(form.at, timeZone) : null);
        navigate(`/broadcasts/${saved.id}`);
        return;
      }
      if (next === "review") {
        // The time is given when sending (send/ takes `at`), so the review carries it along.
        const at = form.when === "later" ? zonedToIso(form.at, timeZone) : null;
        navigate(`/broadcasts/${saved.id}/review?at=${at ? encodeURIComponent(at) : ""}`);
        return;
      }
      setLoaded(saved);
      setAlert({ kind: "success", text: t("broadcasts.compose.saved") });
      if (id === null) navigate(`/broadcasts/${saved.id}/edit`, { replace: true, state: { saved: true } });
    } catch (err) {
      const split = splitErrors(err, SERVER_FIELDS, t);
      setErrors(split.fields);
      setAlert({ kind: "error", text: split.alert.length ? split.alert.join(" ") : t("broadcasts.compose.fixErrors") });
    } finally {
      setSaving(false);
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    void save("review");
  }

  if (options === null) return <Spinner />;
  // Only drafts and scheduled broadcasts can change (and repeating or triggered ones until cancelled); anything
  // else has its detail page.
  const editable = loaded === null || ["draft", "scheduled"].includes(loaded.status) || (isRecurring(loaded) && ["active", "inactive"].includes(loaded.status));
  if (loaded && !editable) return <Navigate to={`/broadcasts/${loaded.id}`} replace />;

  const err = (field: string) => errors[field];
  const attributeChoices = options.attributes;
  const fieldChoices = options.fields;

  return (
    <section className="page stack">
      <Link className="back-link" to="/broadcasts">
        ← {t("nav.broadcasts")}
      </Link>
      <header className="page-header">
        <h1>{id !== null ? t("broadcasts.compose.editTitle") : t("broadcasts.compose.newTitle")}</h1>
      </header>
      {alert ? (
        <Alert kind={alert.kind} testId="compose-alert">
          {alert.text}
        </Alert>
      ) : null}
      <form className="stack" onSubmit={submit} noValidate data-testid="compose-form">
        <div className="card stack">
          <Field
            id="compose-name"
            label={t("broadcasts.compose.name")}
            value={form.name}
            onChange={(e) => update({ name: e.target.value })}
            errors={err("name")}
            placeholder={t("broadcasts.compose.namePlaceholder")}
            data-testid="compose-name"
          />
          <div className={`field${err("template_id") ? " field-invalid" : ""}`}>
            <label htmlFor="compose-template">{t("broadcasts.compose.template")}</label>
            <select id="compose-template" value={form.templateId ?? ""} onChange={(e) => chooseTemplate(e.target.value)} data-testid="compose-template">
              <option value="">{t("broadcasts.compose.templatePick")}</option>
              {options.templates.map((tpl) => (
                <option key={tpl.id} value={tpl.id}>
                  {tpl.name} ({tpl.language})
                </option>
              ))}
            </select>
            {options.templates.length === 0 ? <div className="field-hint">{t("broadcasts.compose.noTemplates")}</div> : null}
            <FieldErrors id="compose-template" errors={err("template_id")} />
          </div>
          {template ? (
            <div className="template-preview" data-testid="compose-template-body">
              <div className="muted small">{template.category}</div>
              <p className="timeline-summary">{template.body_text}</p>
            </div>
          ) : null}
          {form.variables.length ? (
            <div className="table-wrap">
              <table className="table table-inputs" data-testid="compose-variables">
                <thead>
                  <tr>
                    <th>{t("broadcasts.compose.variable")}</th>
                    <th>{t("broadcasts.compose.source")}</th>
                    <th>{t("broadcasts.compose.value")}</th>
                    <th>{t("broadcasts.compose.fallback")}</th>
                  </tr>
                </thead>
                <tbody>
                  {form.variables.map((v, i) => {
                    const n = i + 1;
                    const choices = v.source === "field" ? fieldChoices : attributeChoices;
                    return (
                      <tr key={i} data-testid={`variable-${n}`}>
                        <td>
                          <code>{`{{${n}}}`}</code>
                        </td>
                        <td>
                          <select aria-label={t("broadcasts.compose.sourceOf", { n })} value={v.source} onChange={(e) => changeSource(i, e.target.value as VariableSource)} data-testid={`variable-source-${n}`}>
                            {SOURCES.map((s) => (
                              <option key={s.value} value={s.value}>
                                {t(s.key)}
                              </option>
                            ))}
                          </select>
                        </td>
                        <td>
                          {v.source === "text" ? (
                            <input aria-label={t("broadcasts.compose.valueOf", { n })} value={v.value} onChange={(e) => setVariable(i, { value: e.target.value })} aria-invalid={!!err(`variables.${i}.value`) || undefined} data-testid={`variable-value-${n}`} />
                          ) : (
                            <select aria-label={t("broadcasts.compose.valueOf", { n })} value={v.value} onChange={(e) => setVariable(i, { value: e.target.value })} aria-invalid={!!err(`variables.${i}.value`) || undefined} data-testid={`variable-value-${n}`}>
                              <option value="">—</option>
                              {choices.map((c) => (
                                <option key={c.key} value={c.key}>
                                  {c.label}
                                </option>
                              ))}
                            </select>
                          )}
                          <FieldErrors id={`variable-value-${n}`} errors={err(`variables.${i}.value`)} />
                        </td>
                        <td>
                          {v.source === "text" ? (
                            <span className="muted small">{t("broadcasts.compose.noFallback")}</span>
                          ) : (
                            <input
                              aria-label={t("broadcasts.compose.fallbackOf", { n })}
                              value={v.fallback}
                              placeholder={t("broadcasts.compose.fallbackPlaceholder")}
                              onChange={(e) => setVariable(i, { fallback: e.target.value })}
                              aria-invalid={!!err(`variables.${i}.fallback`) || undefined}
                              data-testid={`variable-fallback-${n}`}
                            />
                          )}
                          <FieldErrors id={`variable-fallback-${n}`} errors={err(`variables.${i}.fallback`)} />
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <FieldErrors id="compose-variables" errors={err("variables")} />
            </div>
          ) : null}
          {template?.header_format ? (
            <Field
              id="compose-header-url"
              type="url"
              label={t(HEADER_KEYS[template.header_format] ?? "broadcasts.compose.header.document")}
              hint={t("broadcasts.compose.headerHint")}
              value={form.headerMediaUrl}
              onChange={(e) => update({ headerMediaUrl: e.target.value })}
              errors={err("header_media_url")}
              placeholder="https://"
              data-testid="compose-header-url"
            />
          ) : null}
        </div>

        <div className="card stack">
          <h2>{t("broadcasts.compose.audience")}</h2>
          <ChipSelect
            legend={t("broadcasts.compose.segments")}
            choices={options.segments.map((s) => ({ value: s.id, label: s.name }))}
            selected={form.audience.segments}
            onToggle={(v) => update({ audience: { ...form.audience, segments: toggle(form.audience.segments, v) } })}
            testId="audience-segment"
            empty={t("broadcasts.compose.noSegments")}
          />
          <ChipSelect
            legend={t("broadcasts.compose.groups")}
            choices={options.groups.map((g) => ({ value: g.key, label: g.name }))}
            selected={form.audience.groups}
            onToggle={(v) => update({ audience: { ...form.audience, groups: toggle(form.audience.groups, v) } })}
            testId="audience-group"
            empty={t("broadcasts.compose.noGroups")}
          />
          <ChipSelect
            legend={t("broadcasts.compose.labels")}
            choices={options.labels.map((l) => ({ value: l.id, label: l.name }))}
            selected={form.audience.labels}
            onToggle={(v) => update({ audience: { ...form.audience, labels: toggle(form.audience.labels, v) } })}
            testId="audience-label"
            empty={t("broadcasts.compose.noLabels")}
          />
          <AudienceUpload
            broadcastName={form.name}
            onLabel={(fresh, labelId) => {
              setOptions(fresh);
              setForm((old) => ({ ...old, audience: { ...old.audience, labels: old.audience.labels.includes(labelId) ? old.audience.labels : [...old.audience.labels, labelId] } }));
            }}
          />
          <AudienceContacts ids={form.audience.contacts} onChange={(contacts) => setForm((old) => ({ ...old, audience: { ...old.audience, contacts } }))} />
          <FieldErrors id="compose-audience" errors={err("audience")} />
          <ChipSelect
            legend={t("broadcasts.compose.exclude")}
            choices={options.segments.map((s) => ({ value: s.id, label: s.name }))}
            selected={form.excludeSegments}
            onToggle={(v) => update({ excludeSegments: toggle(form.excludeSegments, v) })}
            testId="exclude-segment"
            empty={t("broadcasts.compose.noSegments")}
          />
          <FieldErrors id="compose-exclude" errors={err("exclude_segments")} />
          <p className="muted small">{t("broadcasts.compose.alwaysExcluded")}</p>
          <div className="form-grid form-grid-2">
            <Field
              id="compose-frequency-cap"
              inputMode="numeric"
              label={t("broadcasts.compose.frequencyCap")}
              hint={t("broadcasts.compose.frequencyCapHint")}
              value={form.frequencyCapHours}
              onChange={(e) => update({ frequencyCapHours: e.target.value })}
              errors={err("frequency_cap_hours")}
              suffix={t("broadcasts.compose.hours")}
              data-testid="compose-frequency-cap"
            />
            <Field
              id="compose-attribution"
              inputMode="numeric"
              label={t("broadcasts.compose.attribution")}
              hint={t("broadcasts.compose.attributionHint")}
              value={form.attributionDays}
              onChange={(e) => update({ attributionDays: e.target.value })}
              errors={err("attribution_days")}
              suffix={t("broadcasts.compose.days")}
              data-testid="compose-attribution"
            />
          </div>
        </div>

        <div className="card stack">
          <h2>{t("broadcasts.compose.schedule")}</h2>
          <fieldset className="fieldset">
            <legend className="visually-hidden">{t("broadcasts.compose.schedule")}</legend>
            <label className="checkbox">
              <input type="radio" name="when" checked={form.when === "now"} onChange={() => update({ when: "now" })} data-testid="compose-when-now" />
              {t("broadcasts.compose.now")}
            </label>
            <label className="checkbox">
              <input type="radio" name="when" checked={form.when === "later"} onChange={() => update({ when: "later" })} data-testid="compose-when-later" />
              {t("broadcasts.compose.later")}
            </label>
            <label className="checkbox">
              <input type="radio" name="when" checked={form.when === "repeat"} onChange={() => update({ when: "repeat" })} data-testid="compose-when-repeat" />
              {t("broadcasts.compose.repeat")}
            </label>
            <label className="checkbox">
              <input type="radio" name="when" checked={form.when === "trigger"} onChange={() => update({ when: "trigger" })} data-testid="compose-when-trigger" />
              {t("broadcasts.compose.trigger")}
            </label>
          </fieldset>
          {form.when === "repeat" ? (
            <div className={`field${err("repeat") ? " field-invalid" : ""}`}>
              <label htmlFor="compose-repeat">{t("broadcasts.compose.repeatEvery")}</label>
              <select id="compose-repeat" value={form.repeat} onChange={(e) => update({ repeat: e.target.value as ComposeForm["repeat"] })} data-testid="compose-repeat">
                {REPEATS.map((r) => (
                  <option key={r} value={r}>
                    {t(`broadcasts.compose.repeat.${r}` as TKey)}
                  </option>
                ))}
              </select>
              <FieldErrors id="compose-repeat" errors={err("repeat")} />
            </div>
          ) : null}
          {form.when === "later" || form.when === "repeat" ? (
            <Field
              id="compose-at"
              type="datetime-local"
              label={t(form.when === "repeat" ? "broadcasts.compose.firstRun" : "broadcasts.compose.at")}
              hint={t(form.when === "repeat" ? "broadcasts.compose.firstRunHint" : "broadcasts.compose.timeZone", { zone: timeZone })}
              value={form.at}
              onChange={(e) => update({ at: e.target.value })}
              errors={err("scheduled_at")}
              data-testid="compose-at"
            />
          ) : null}
          {form.when === "trigger" ? (
            <>
              <div className={`field${err("trigger") ? " field-invalid" : ""}`}>
                <label htmlFor="compose-trigger">{t("broadcasts.compose.triggerKind")}</label>
                <select id="compose-trigger" value={form.trigger} onChange={(e) => update({ trigger: e.target.value as ComposeForm["trigger"] })} data-testid="compose-trigger">
                  {TRIGGERS.map((kind) => (
                    <option key={kind} value={kind}>
                      {t(`broadcasts.compose.trigger.${kind}` as TKey)}
                    </option>
                  ))}
                </select>
                <FieldErrors id="compose-trigger" errors={err("trigger")} />
              </div>
              {form.trigger === "days_after_order" ? (
                <Field
                  id="compose-trigger-days"
                  inputMode="numeric"
                  label={t("broadcasts.compose.triggerDays")}
                  value={form.triggerDays}
                  onChange={(e) => update({ triggerDays: e.target.value })}
                  errors={err("trigger_days")}
                  suffix={t("broadcasts.compose.days")}
                  data-testid="compose-trigger-days"
                />
              ) : null}
              {form.trigger === "cart_left" ? (
                <Field
                  id="compose-trigger-hours"
                  inputMode="numeric"
                  label={t("broadcasts.compose.triggerHours")}
                  value={form.triggerHours}
                  onChange={(e) => update({ triggerHours: e.target.value })}
                  errors={err("trigger_hours")}
                  suffix={t("broadcasts.compose.hours")}
                  data-testid="compose-trigger-hours"
                />
              ) : null}
              <p className="muted" data-testid="compose-trigger-hint">
                {t("broadcasts.compose.triggerHint")}
              </p>
            </>
          ) : null}
        </div>

        <div className="button-row">
          <button type="button" className="btn btn-secondary" disabled={saving} onClick={() => void save("stay")} data-testid="compose-save">
            {t("broadcasts.compose.saveDraft")}
          </button>
          <button type="submit" className="btn btn-primary" disabled={saving} data-testid="compose-review">
            {t(form.when === "repeat" || form.when === "trigger" ? "broadcasts.compose.activate" : "broadcasts.compose.review")}
          </button>
        </div>
      </form>
    </section>
  );
}
