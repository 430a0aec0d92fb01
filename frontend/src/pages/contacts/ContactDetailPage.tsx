import { useCallback, useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import {
  endpoints,
  type ContactDetail,
  type ContactRef,
  type CustomAttribute,
  type Deal,
  type Label,
  type Member,
  type Order,
  type TimelineItem,
} from "../../api";
import { Alert } from "../../components/Alert";
import { ContactPicker } from "../../components/ContactPicker";
import { errorMessage } from "../../components/errors";
import { Field } from "../../components/Field";
import { Icon } from "../../components/Icon";
import { Modal } from "../../components/Modal";
import { Spinner } from "../../components/Spinner";
import { formatMoney, formatYmd } from "../../format";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters, useSession } from "../../session";
import { OrderForm } from "../orders/OrderForm";
import { OrderStatusBadge } from "../orders/OrderStatusBadge";
import { ContactForm } from "./ContactForm";

const TIMELINE_KINDS: Record<string, TKey> = {
  note: "timeline.note",
  "order.created": "timeline.orderCreated",
  "order.status": "timeline.orderStatus",
  "deal.moved": "timeline.dealMoved",
  "label.added": "timeline.labelAdded",
  "label.removed": "timeline.labelRemoved",
  consent: "timeline.consent",
  "message.in": "timeline.messageIn",
  "message.out": "timeline.messageOut",
  merge: "timeline.merge",
};

export function Timeline({ contactId, reloadKey }: { contactId: number; reloadKey: number }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const [items, setItems] = useState<TimelineItem[] | null>(null);
  const [nextBefore, setNextBefore] = useState<string | null>(null);
  const [text, setText] = useState("");
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let cancelled = false;
    endpoints.timeline(contactId).then(
      (page) => {
        if (cancelled) return;
        setItems(page?.results ?? []);
        setNextBefore(page?.next_before ?? null);
      },
      (err) => {
        if (cancelled) return;
        setItems([]);
        setError(errorMessage(err, t));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [contactId, reloadKey, t]);

  async function more() {
    if (!nextBefore) return;
    try {
      const page = await endpoints.timeline(contactId, nextBefore);
      setItems((old) => [...(old ?? []), ...(page?.results ?? [])]);
      setNextBefore(page?.next_before ?? null);
    } catch (err) {
      setError(errorMessage(err, t));
    }
  }

  async function addNote(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) return;
    setSaving(true);
    setError(null);
    try {
      const item = await endpoints.addContactNote(contactId, text.trim());
      setItems((old) => [item, ...(old ?? [])]);
      setText("");
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="card">
      <h2>{t("timeline.title")}</h2>
      <form className="note-form" onSubmit={addNote}>
        <label className="visually-hidden" htmlFor="note_text">
          {t("timeline.addNote")}
        </label>
        <textarea id="note_text" rows={2} placeholder={t("timeline.notePlaceholder")} value={text} onChange={(e) => setText(e.target.value)} data-testid="note-text" />
        <button type="submit" className="btn btn-primary btn-sm" disabled={saving || !text.trim()} data-testid="note-save">
          {t("timeline.addNote")}
        </button>
      </form>
      {error ? (
        <Alert kind="error" testId="timeline-error">
          {error}
        </Alert>
      ) : null}
      {items === null ? (
        <Spinner />
      ) : items.length === 0 ? (
        <p className="muted">{t("timeline.empty")}</p>
      ) : (
        <ol className="timeline" data-testid="contact-timeline">
          {items.map((item) => (
            <li key={item.id} className={`timeline-item timeline-${item.kind.replace(/\W/g, "-")}`} data-testid="timeline-item" data-kind={item.kind}>
              <div className="timeline-meta">
                <span className="badge badge-kind">{TIMELINE_KINDS[item.kind] ? t(TIMELINE_KINDS[item.kind]) : item.kind}</span>
                <time dateTime={item.created_at} title={fmt.dateTime(item.created_at)}>
                  {fmt.dateTime(item.created_at)}
                </time>
                {item.actor_name ? <span className="muted">· {item.actor_name}</span> : null}
              </div>
              <div className="timeline-summary">{item.summary}</div>
            </li>
          ))}
        </ol>
      )}
      {nextBefore ? (
        <div className="center list-more">
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => void more()} data-testid="timeline-more">
            {t("inbox.loadMore")}
          </button>
        </div>
      ) : null}
    </div>
  );
}

function MergeDialog({ contact, onClose, onMerged }: { contact: ContactDetail; onClose: () => void; onMerged: (c: ContactDetail) => void }) {
  const { t } = useI18n();
  const [other, setOther] = useState<ContactRef | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function merge() {
    if (!other) return;
    setBusy(true);
    setError(null);
    try {
      onMerged(await endpoints.mergeContact(contact.id, other.id));
    } catch (err) {
      setError(errorMessage(err, t));
      setBusy(false);
    }
  }

  return (
    <Modal title={t("merge.title")} onClose={onClose} testId="merge-dialog">
      <div className="stack-sm">
        <p className="muted small">{t("merge.intro", { name: contact.name || contact.phone || `#${contact.id}` })}</p>
        {error ? (
          <Alert kind="error" testId="merge-error">
            {error}
          </Alert>
        ) : null}
        <ContactPicker id="merge_other" label={t("merge.other")} value={other} onChange={setOther} testId="merge-search" excludeId={contact.id} />
        {other ? (
          <Alert kind="warning" testId="merge-warning">
            {t("merge.confirmText", { other: other.name || other.phone || `#${other.id}`, name: contact.name || contact.phone || `#${contact.id}` })}
          </Alert>
        ) : null}
        <div className="button-row">
          <button type="button" className="btn btn-primary" disabled={!other || busy} onClick={() => void merge()} data-testid="merge-confirm">
            {t("merge.confirm")}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </div>
    </Modal>
  );
}

/** The right to be forgotten: an owner or admin erases the customer's personal data and messages; totals stay. */
function EraseDialog({ contact, onClose, onErased }: { contact: ContactDetail; onClose: () => void; onErased: (c: ContactDetail) => void }) {
  const { t } = useI18n();
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const word = t("erase.word");

  async function erase() {
    setBusy(true);
    setError(null);
    try {
      onErased(await endpoints.eraseContact(contact.id));
    } catch (err) {
      setError(errorMessage(err, t));
      setBusy(false);
    }
  }

  return (
    <Modal title={t("erase.title")} onClose={onClose} testId="erase-dialog">
      <div className="stack-sm">
        <Alert kind="warning" testId="erase-warning">
          {t("erase.warning", { name: contact.name || contact.phone || `#${contact.id}` })}
        </Alert>
        <p className="muted small">{t("erase.kept")}</p>
        {error ? (
          <Alert kind="error" testId="erase-error">
            {error}
          </Alert>
        ) : null}
        <Field id="erase_confirm" label={t("erase.typeToConfirm", { word })} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" />
        <div className="button-row">
          <button type="button" className="btn btn-danger" disabled={busy || typed.trim().toUpperCase() !== word.toUpperCase()} onClick={() => void erase()} data-testid="erase-confirm">
            {t("erase.confirm")}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {t("common.cancel")}
          </button>
        </div>
      </div>
    </Modal>
  );
}

export function ContactDetailPage() {
  const { t, lang } = useI18n();
  const fmt = useFormatters();
  const params = useParams();
  const contactId = Number(params.contactId);
  const [contact, setContact] = useState<ContactDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [labels, setLabels] = useState<Label[]>([]);
  const [attributes, setAttributes] = useState<CustomAttribute[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [orders, setOrders] = useState<Order[] | null>(null);
  const [deals, setDeals] = useState<(Deal & { stage: string })[] | null>(null);
  const [editing, setEditing] = useState(false);
  const [merging, setMerging] = useState(false);
  const [erasing, setErasing] = useState(false);
  const { session } = useSession();
  const canManage = session?.role === "owner" || session?.role === "admin";
  const [ordering, setOrdering] = useState(false);
  const [busy, setBusy] = useState(false);
  const [timelineKey, setTimelineKey] = useState(0);

  const loadRelated = useCallback(() => {
    endpoints.orders({ contact_id: contactId }).then(
      (page) => setOrders(page?.results ?? []),
      () => setOrders([]),
    );
    Promise.all([endpoints.contactDeals(contactId), endpoints.stages()]).then(
      ([page, stages]) => {
        const names = new Map(stages.map((s) => [s.id, s.name]));
        setDeals((page?.results ?? []).map((d) => ({ ...d, stage: names.get(d.stage_id ?? -1) ?? "" })));
      },
      () => setDeals([]),
    );
  }, [contactId]);

  useEffect(() => {
    let cancelled = false;
    setContact(null);
    setLoadError(null);
    endpoints.contact(contactId).then(
      (c) => !cancelled && setContact(c),
      (err) => !cancelled && setLoadError(errorMessage(err, t)),
    );
    endpoints.labels().then((l) => !cancelled && setLabels(l), () => {});
    endpoints.attributes().then((a) => !cancelled && setAttributes(a), () => {});
    endpoints.members().then((m) => !cancelled && setMembers(m), () => {});
    loadRelated();
    return () => {
      cancelled = true;
    };
  }, [contactId, loadRelated, t]);

  async function patch(changes: Parameters<typeof endpoints.updateContact>[1]) {
    if (!contact) return;
    setBusy(true);
    setError(null);
    try {
      setContact(await endpoints.updateContact(contact.id, changes));
      setTimelineKey((k) => k + 1);
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBusy(false);
    }
  }

  if (loadError) {
    return (
      <section className="page">
        <Link to="/contacts" className="back-link">
          ← {t("nav.contacts")}
        </Link>
        <Alert kind="error" testId="contact-load-error">
          {loadError}
        </Alert>
      </section>
    );
  }
  if (!contact) return <Spinner />;

  const labelIds = contact.labels.map((l) => l.id);
  const unusedLabels = labels.filter((l) => !labelIds.includes(l.id));
  const title = contact.erased_at ? t("erase.anonymous", { id: String(contact.id) }) : contact.name || contact.phone || `#${contact.id}`;
  const dash = <span className="muted">—</span>;

  return (
    <section className="page" data-testid="contact-detail">
      <Link to="/contacts" className="back-link">
        ← {t("nav.contacts")}
      </Link>
      <header className="page-header">
        <div className="avatar avatar-lg" aria-hidden="true">
          {title.charAt(0).toUpperCase()}
        </div>
        <h1 data-testid="contact-title">{title}</h1>
        {contact.rfm_segment ? <span className="badge badge-soon">{contact.rfm_segment}</span> : null}
        <div className="header-actions">
          {contact.conversation_id ? (
            <Link className="btn btn-secondary btn-sm" to={`/inbox/${contact.conversation_id}`} data-testid="contact-open-chat">
              <Icon name="inbox" />
              {t("contacts.openChat")}
            </Link>
          ) : null}
          <button type="button" className="btn btn-secondary btn-sm" onClick={() => setOrdering(true)} data-testid="contact-create-order">
            {t("orders.create")}
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setMerging(true)} data-testid="contact-merge">
            {t("merge.button")}
          </button>
          {canManage && !contact.erased_at ? (
            <button type="button" className="btn btn-danger-ghost btn-sm" onClick={() => setErasing(true)} data-testid="contact-erase">
              {t("erase.button")}
            </button>
          ) : null}
        </div>
      </header>
      {contact.erased_at ? (
        <Alert kind="info" testId="contact-erased">
          {t("erase.done", { date: fmt.dateTime(contact.erased_at) })}
        </Alert>
      ) : null}
      {error ? (
        <Alert kind="error" testId="contact-error">
          {error}
        </Alert>
      ) : null}
      <div className="detail-grid">
        <div className="stack">
          <div className="card" data-testid="contact-card-detail">
            <div className="card-head">
              <h2>{t("contacts.details")}</h2>
              {!editing ? (
                <button type="button" className="btn btn-ghost btn-sm" onClick={() => setEditing(true)} data-testid="contact-edit">
                  {t("common.edit")}
                </button>
              ) : null}
            </div>
            {editing ? (
              <ContactForm
                contact={contact}
                labels={labels}
                attributes={attributes}
                members={members}
                onSaved={(c) => {
                  setContact(c);
                  setEditing(false);
                  setTimelineKey((k) => k + 1);
                }}
                onCancel={() => setEditing(false)}
              />
            ) : (
              <dl className="kv" data-testid="contact-fields">
                <dt>{t("contacts.name")}</dt>
                <dd data-testid="contact-detail-name">{contact.name || dash}</dd>
                <dt>{t("contacts.phone")}</dt>
                <dd data-testid="contact-detail-phone">{contact.phone || contact.wa_id || dash}</dd>
                <dt>{t("contacts.email")}</dt>
                <dd data-testid="contact-detail-email">{contact.email || dash}</dd>
                <dt>{t("contacts.city")}</dt>
                <dd data-testid="contact-detail-city">{contact.city || dash}</dd>
                <dt>{t("contacts.address")}</dt>
                <dd>{contact.address || dash}</dd>
                <dt>{t("contacts.birthday")}</dt>
                <dd>{contact.birthday ? formatYmd(contact.birthday, lang) : dash}</dd>
                <dt>{t("contacts.gender")}</dt>
                <dd>{contact.gender ? t(`contacts.gender.${contact.gender}` as TKey) : dash}</dd>
                <dt>{t("inbox.source")}</dt>
                <dd>{contact.source || dash}</dd>
                <dt>{t("inbox.since")}</dt>
                <dd>{fmt.date(contact.created_at)}</dd>
                <dt>{t("contacts.orders")}</dt>
                <dd data-testid="contact-detail-orders">{contact.order_count ?? 0}</dd>
                <dt>{t("contacts.totalSpent")}</dt>
                <dd data-testid="contact-detail-spent">{formatMoney(contact.total_spent ?? 0)}</dd>
                <dt>{t("contacts.lastInbound")}</dt>
                <dd>{contact.last_inbound_at ? fmt.dateTime(contact.last_inbound_at) : dash}</dd>
                {attributes.map((a) => {
                  const v = contact.attributes?.[a.key];
                  return [
                    <dt key={`${a.key}-dt`}>{a.label || a.key}</dt>,
                    <dd key={`${a.key}-dd`} data-testid={`contact-detail-attr-${a.key}`}>
                      {v === null || v === undefined || v === "" ? dash : typeof v === "boolean" ? (v ? t("common.yes") : t("common.no")) : a.type === "date" ? formatYmd(String(v), lang) : String(v)}
                    </dd>,
                  ];
                })}
                {contact.notes ? (
                  <>
                    <dt>{t("contacts.notes")}</dt>
                    <dd className="cell-text">{contact.notes}</dd>
                  </>
                ) : null}
              </dl>
            )}
          </div>

          <div className="card">
            <h2>{t("contacts.labels")}</h2>
            <ul className="chips" data-testid="contact-labels">
              {contact.labels.map((l) => (
                <li key={l.id} className="chip" data-testid={`contact-label-${l.id}`}>
                  <span className="label-dot" style={{ background: l.color || undefined }} aria-hidden="true" />
                  {l.name}
                  <button
                    type="button"
                    className="chip-remove"
                    aria-label={t("contacts.removeLabel", { name: l.name })}
                    disabled={busy}
                    onClick={() => void patch({ label_ids: labelIds.filter((x) => x !== l.id) })}
                    data-testid={`contact-label-remove-${l.id}`}
                  >
                    ×
                  </button>
                </li>
              ))}
              {contact.labels.length === 0 ? <li className="muted small">{t("contacts.noLabels")}</li> : null}
            </ul>
            {unusedLabels.length ? (
              <select
                aria-label={t("contacts.addLabel")}
                value=""
                disabled={busy}
                onChange={(e) => e.target.value && void patch({ label_ids: [...labelIds, Number(e.target.value)] })}
                data-testid="contact-label-add"
              >
                <option value="">{t("contacts.addLabel")}</option>
                {unusedLabels.map((l) => (
                  <option key={l.id} value={String(l.id)}>
                    {l.name}
                  </option>
                ))}
              </select>
            ) : null}
          </div>

          <div className="card">
            <h2>{t("contacts.ownerConsent")}</h2>
            <div className="form">
              <div className="field">
                <label htmlFor="contact_owner_select">{t("contacts.owner")}</label>
                <select
                  id="contact_owner_select"
                  value={contact.owner_id === null ? "" : String(contact.owner_id)}
                  disabled={busy}
                  onChange={(e) => void patch({ owner_id: e.target.value ? Number(e.target.value) : null })}
                  data-testid="contact-owner"
                >
                  <option value="">{t("contacts.noOwner")}</option>
                  {contact.owner_id !== null && !members.some((m) => m.user_id === contact.owner_id) ? (
                    <option value={String(contact.owner_id)}>{contact.owner_name ?? `#${contact.owner_id}`}</option>
                  ) : null}
                  {members.map((m) => (
                    <option key={m.user_id} value={String(m.user_id)}>
                      {m.name || m.email}
                    </option>
                  ))}
                </select>
              </div>
              <label className="checkbox">
                <input
                  type="checkbox"
                  checked={!contact.marketing_opt_out}
                  disabled={busy}
                  onChange={(e) => void patch({ marketing_opt_out: !e.target.checked })}
                  data-testid="contact-consent"
                />
                {t("contacts.consentAllowed")}
              </label>
              {contact.marketing_opt_out ? (
                <p className="muted small" data-testid="contact-opt-out-info">
                  {t("contacts.optedOutAt", { at: contact.marketing_opt_out_at ? fmt.dateTime(contact.marketing_opt_out_at) : "—" })}
                  {contact.marketing_opt_out_reason ? ` · ${contact.marketing_opt_out_reason}` : ""}
                </p>
              ) : null}
            </div>
          </div>
        </div>

        <div className="stack">
          <div className="card">
            <h2>{t("nav.orders")}</h2>
            {orders === null ? (
              <Spinner />
            ) : orders.length === 0 ? (
              <p className="muted">{t("orders.emptyContact")}</p>
            ) : (
              <ul className="mini-list" data-testid="contact-orders">
                {orders.map((o) => (
                  <li key={o.id} data-testid={`contact-order-${o.id}`}>
                    <Link to={`/orders/${o.id}`}>{o.number || `#${o.id}`}</Link>
                    <OrderStatusBadge status={o.status} />
                    <span className="mini-right">{formatMoney(o.total)}</span>
                    <span className="muted small">{fmt.date(o.created_at)}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
          <div className="card">
            <h2>{t("nav.pipeline")}</h2>
            {deals === null ? (
              <Spinner />
            ) : deals.length === 0 ? (
              <p className="muted">{t("deals.emptyContact")}</p>
            ) : (
              <ul className="mini-list" data-testid="contact-deals">
                {deals.map((d) => (
                  <li key={d.id} data-testid={`contact-deal-${d.id}`}>
                    <Link to="/pipeline">{d.title}</Link>
                    <span className="badge badge-kind">{d.stage}</span>
                    <span className="mini-right">{formatMoney(d.value)}</span>
                  </li>
                ))}
              </ul>
            )}
          </div>
          <Timeline contactId={contact.id} reloadKey={timelineKey} />
        </div>
      </div>

      {merging ? (
        <MergeDialog
          contact={contact}
          onClose={() => setMerging(false)}
          onMerged={(c) => {
            setContact(c);
            setMerging(false);
            setTimelineKey((k) => k + 1);
            loadRelated();
          }}
        />
      ) : null}
      {erasing ? (
        <EraseDialog
          contact={contact}
          onClose={() => setErasing(false)}
          onErased={(c) => {
            setContact(c);
            setErasing(false);
            setTimelineKey((k) => k + 1);
            loadRelated();
          }}
        />
      ) : null}
      {ordering ? (
        <Modal title={t("orders.new")} onClose={() => setOrdering(false)} testId="order-dialog" wide>
          <OrderForm
            initialContact={{ id: contact.id, name: contact.name, phone: contact.phone }}
            conversationId={null}
            onSaved={() => {
              setOrdering(false);
              loadRelated();
              setTimelineKey((k) => k + 1);
            }}
            onCancel={() => setOrdering(false)}
          />
        </Modal>
      ) : null}
    </section>
  );
}
