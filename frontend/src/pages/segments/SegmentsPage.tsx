import { useEffect, useMemo, useRef, useState } from "react";
import { endpoints, type BuiltinSegment, type ContactRow, type CustomAttribute, type Label, type Product, type RuleGroup, type Segment } from "../../api";
import { Alert } from "../../components/Alert";
import { errorMessage, splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { Spinner } from "../../components/Spinner";
import { formatNumber } from "../../format";
import { useI18n } from "../../i18n";
import { useFormatters } from "../../session";
import { ContactsTable } from "../contacts/ContactsPage";
import { RuleBuilder, type RuleOptions } from "./RuleBuilder";
import { attributeField, STATIC_FIELDS } from "./rules";

export const PREVIEW_DEBOUNCE_MS = 300;

const FALLBACK_RFM = ["champions", "loyal", "potential_loyalists", "new_customers", "promising", "need_attention", "at_risk", "cant_lose", "hibernating", "lost"];

const emptyRules = (): RuleGroup => ({ op: "and", rules: [] });

type View = { kind: "saved"; id: number; name: string } | { kind: "builtin"; key: string; name: string };

function SegmentContacts({ view }: { view: View }) {
  const { t } = useI18n();
  const [contacts, setContacts] = useState<ContactRow[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = view.kind === "saved" ? `s${view.id}` : `b${view.key}`;

  useEffect(() => {
    let cancelled = false;
    setContacts(null);
    const load = view.kind === "saved" ? endpoints.segmentContacts(view.id) : endpoints.builtinSegmentContacts(view.key);
    load.then(
      (page) => {
        if (cancelled) return;
        setContacts(page?.results ?? []);
        setNext(page?.next_cursor ?? null);
      },
      (err) => {
        if (cancelled) return;
        setContacts([]);
        setError(errorMessage(err, t));
      },
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, t]);

  async function more() {
    if (!next) return;
    try {
      const page = view.kind === "saved" ? await endpoints.segmentContacts(view.id, next) : await endpoints.builtinSegmentContacts(view.key, next);
      setContacts((old) => [...(old ?? []), ...(page?.results ?? [])]);
      setNext(page?.next_cursor ?? null);
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  return (
    <div className="card card-flush" data-testid="segment-view">
      <div className="card-head card-pad">
        <h2>{view.name}</h2>
        {view.kind === "saved" ? (
          <a className="btn btn-secondary btn-sm" href={endpoints.segmentExportUrl(view.id)} download data-testid="segment-export">
            {t("contacts.export")}
          </a>
        ) : null}
      </div>
      {error ? <Alert kind="error">{error}</Alert> : null}
      {contacts === null ? <Spinner /> : contacts.length === 0 ? <p className="muted card-pad">{t("segments.noContacts")}</p> : <ContactsTable contacts={contacts} testId="segment-contacts" />}
      {next ? (
        <div className="center list-more">
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => void more()} data-testid="segment-contacts-more">
            {t("inbox.loadMore")}
          </button>
        </div>
      ) : null}
    </div>
  );
}

export function SegmentsPage() {
  const { t, lang } = useI18n();
  const fmt = useFormatters();
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [builtin, setBuiltin] = useState<BuiltinSegment[] | null>(null);
  const [labels, setLabels] = useState<Label[]>([]);
  const [attributes, setAttributes] = useState<CustomAttribute[]>([]);
  const [products, setProducts] = useState<Product[]>([]);
  const [editingId, setEditingId] = useState<number | null>(null);
  const [name, setName] = useState("");
  const [rules, setRules] = useState<RuleGroup>(emptyRules);
  const [count, setCount] = useState<number | null>(null);
  const [counting, setCounting] = useState(false);
  const [nameErrors, setNameErrors] = useState<string[]>([]);
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [view, setView] = useState<View | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [rfmResult, setRfmResult] = useState<string | null>(null);
  const previewSeq = useRef(0);

  function loadBuiltin() {
    endpoints.builtinSegments().then(setBuiltin, () => setBuiltin([]));
  }

  useEffect(() => {
    endpoints.segments().then(setSegments, () => setSegments([]));
    loadBuiltin();
    endpoints.labels().then(setLabels, () => {});
    endpoints.attributes().then(setAttributes, () => {});
    endpoints.products().then((page) => setProducts(page?.results ?? []), () => {});
  }, []);

  const options = useMemo<RuleOptions>(() => {
    const rfmFromBuiltin = (builtin ?? []).filter((b) => b.key.startsWith("rfm:")).map((b) => ({ key: b.key.slice(4), name: b.name }));
    const rfm = rfmFromBuiltin.length ? rfmFromBuiltin : FALLBACK_RFM.map((k) => ({ key: k, name: k.replace(/_/g, " ") }));
    const choices: Record<string, string[]> = {};
    for (const a of attributes) if (a.type === "choice") choices[`attribute:${a.key}`] = a.choices;
    return { fields: [...STATIC_FIELDS, ...attributes.map(attributeField)], labels, products, rfm, choices };
  }, [builtin, attributes, labels, products]);

  // Live count: debounced preview whenever the rules change.
  const rulesJson = JSON.stringify(rules);
  useEffect(() => {
    const mine = ++previewSeq.current;
    setCounting(true);
    const timer = window.setTimeout(async () => {
      try {
        const res = await endpoints.previewSegment(JSON.parse(rulesJson) as RuleGroup);
        if (mine === previewSeq.current) setCount(res?.count ?? null);
      } catch {
        if (mine === previewSeq.current) setCount(null);
      } finally {
        if (mine === previewSeq.current) setCounting(false);
      }
    }, PREVIEW_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [rulesJson]);

  function startNew() {
    setEditingId(null);
    setName("");
    setRules(emptyRules());
    setNameErrors([]);
    setMessage(null);
  }

  function edit(s: Segment) {
    setEditingId(s.id);
    setName(s.name);
    setRules(s.rules && Array.isArray(s.rules.rules) ? s.rules : emptyRules());
    setNameErrors([]);
    setMessage(null);
    setView({ kind: "saved", id: s.id, name: s.name });
  }

  async function save() {
    if (!name.trim()) {
      setNameErrors([t("segments.nameRequired")]);
      return;
    }
    setSaving(true);
    setNameErrors([]);
    setMessage(null);
    try {
      const saved = editingId !== null ? await endpoints.updateSegment(editingId, { name: name.trim(), rules }) : await endpoints.createSegment({ name: name.trim(), rules });
      setSegments((old) => (old?.some((s) => s.id === saved.id) ? old.map((s) => (s.id === saved.id ? saved : s)) : [...(old ?? []), saved]));
      setEditingId(saved.id);
      setView({ kind: "saved", id: saved.id, name: saved.name });
      setMessage({ kind: "success", text: t("segments.saved") });
    } catch (err) {
      const split = splitErrors(err, ["name"], t);
      setNameErrors(split.fields.name ?? []);
      if (split.alert.length) setMessage({ kind: "error", text: split.alert.join(" ") });
    } finally {
      setSaving(false);
    }
  }

  async function remove(s: Segment) {
    if (!window.confirm(t("segments.confirmDelete", { name: s.name }))) return;
    try {
      await endpoints.deleteSegment(s.id);
      setSegments((old) => (old ?? []).filter((x) => x.id !== s.id));
      if (editingId === s.id) startNew();
      if (view?.kind === "saved" && view.id === s.id) setView(null);
    } catch (err) {
      setMessage({ kind: "error", text: errorMessage(err, t) });
    }
  }

  async function refreshRfm() {
    setRefreshing(true);
    setRfmResult(null);
    try {
      const res = await endpoints.refreshRfm();
      setRfmResult(t("segments.rfmRefreshed", { n: res?.refreshed ?? 0, at: fmt.dateTime(res?.at) }));
      loadBuiltin();
    } catch (err) {
      setRfmResult(errorMessage(err, t));
    } finally {
      setRefreshing(false);
    }
  }

  return (
    <div className="segments-layout">
      <div className="stack">
        <div className="card">
          <div className="card-head">
            <h2>{t("segments.builtin")}</h2>
            <button type="button" className="btn btn-ghost btn-sm" disabled={refreshing} onClick={() => void refreshRfm()} data-testid="rfm-refresh">
              {t("segments.rfmRefresh")}
            </button>
          </div>
          {rfmResult ? (
            <p className="small muted" data-testid="rfm-result">
              {rfmResult}
            </p>
          ) : null}
          {builtin === null ? (
            <Spinner />
          ) : (
            <ul className="segment-list" data-testid="builtin-segments">
              {builtin.map((b) => (
                <li key={b.key}>
                  <button
                    type="button"
                    className={`segment-item${view?.kind === "builtin" && view.key === b.key ? " active" : ""}`}
                    onClick={() => setView({ kind: "builtin", key: b.key, name: b.name })}
                    data-testid={`builtin-${b.key}`}
                  >
                    <span>{b.name}</span>
                    <span className="badge badge-closed" data-testid={`builtin-count-${b.key}`}>
                      {formatNumber(b.count, lang)}
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div className="card">
          <div className="card-head">
            <h2>{t("segments.savedList")}</h2>
            <button type="button" className="btn btn-ghost btn-sm" onClick={startNew} data-testid="segment-new">
              + {t("segments.new")}
            </button>
          </div>
          {segments === null ? (
            <Spinner />
          ) : (
            <ul className="segment-list" data-testid="segments-list">
              {segments.length === 0 ? <li className="muted small">{t("segments.empty")}</li> : null}
              {segments.map((s) => (
                <li key={s.id} className="segment-row">
                  <button type="button" className={`segment-item${editingId === s.id ? " active" : ""}`} onClick={() => edit(s)} data-testid={`segment-item-${s.id}`}>
                    <span>{s.name}</span>
                    {s.count != null ? <span className="badge badge-closed">{formatNumber(s.count, lang)}</span> : null}
                  </button>
                  <button type="button" className="btn btn-danger-ghost btn-sm" aria-label={t("common.delete")} onClick={() => void remove(s)} data-testid={`segment-delete-${s.id}`}>
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>

      <div className="stack">
        <div className="card" data-testid="segment-builder">
          <h2>{editingId !== null ? t("segments.edit") : t("segments.new")}</h2>
          {message ? (
            <Alert kind={message.kind} testId="segment-message">
              {message.text}
            </Alert>
          ) : null}
          <div className="form">
            <Field id="segment_name" label={t("segments.name")} value={name} onChange={(e) => setName(e.target.value)} errors={nameErrors} data-testid="segment-name" />
            <RuleBuilder value={rules} onChange={setRules} options={options} />
            <div className="segment-footer">
              <span className="segment-count" aria-live="polite">
                {t("segments.matching")}{" "}
                <strong data-testid="segment-count" data-loading={counting || undefined}>
                  {count === null ? "—" : formatNumber(count, lang)}
                </strong>
              </span>
              <button type="button" className="btn btn-primary" disabled={saving} onClick={() => void save()} data-testid="segment-save">
                {t("segments.save")}
              </button>
            </div>
          </div>
        </div>
        {view ? <SegmentContacts view={view} /> : null}
      </div>
    </div>
  );
}
