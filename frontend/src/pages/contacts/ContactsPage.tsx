import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { endpoints, type Consent, type ContactDetail, type ContactFilters, type ContactRow, type CustomAttribute, type Label, type Member } from "../../api";
import { Alert } from "../../components/Alert";
import { EmptyState } from "../../components/EmptyState";
import { errorMessage } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { Modal } from "../../components/Modal";
import { Spinner } from "../../components/Spinner";
import { formatMoney } from "../../format";
import { useI18n } from "../../i18n";
import { useFormatters } from "../../session";
import { ContactForm } from "./ContactForm";
import { ImportDialog } from "./ImportDialog";

export function LabelChips({ labels }: { labels: { id: number; name: string; color: string }[] }) {
  if (!labels.length) return null;
  return (
    <span className="label-chips">
      {labels.map((l) => (
        <span key={l.id} className="label-chip" data-testid={`label-chip-${l.id}`}>
          <span className="label-dot" style={{ background: l.color || undefined }} aria-hidden="true" />
          {l.name}
        </span>
      ))}
    </span>
  );
}

/** The contacts table shared by the contact list and the segment views. */
export function ContactsTable({
  contacts,
  selected,
  onToggle,
  onToggleAll,
  testId = "contacts-table",
}: {
  contacts: ContactRow[];
  selected?: Set<number>;
  onToggle?: (id: number) => void;
  onToggleAll?: () => void;
  testId?: string;
}) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const selectable = !!selected && !!onToggle;
  return (
    <div className="table-wrap">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            {selectable ? (
              <th className="col-check">
                <input
                  type="checkbox"
                  aria-label={t("contacts.selectAll")}
                  checked={contacts.length > 0 && contacts.every((c) => selected.has(c.id))}
                  onChange={onToggleAll}
                  data-testid="contacts-select-all"
                />
              </th>
            ) : null}
            <th>{t("contacts.name")}</th>
            <th>{t("contacts.phone")}</th>
            <th>{t("contacts.city")}</th>
            <th>{t("contacts.labels")}</th>
            <th>{t("contacts.owner")}</th>
            <th>{t("contacts.orders")}</th>
            <th>{t("contacts.totalSpent")}</th>
            <th>{t("contacts.lastOrder")}</th>
          </tr>
        </thead>
        <tbody>
          {contacts.map((c) => (
            <tr key={c.id} data-testid={`contact-row-${c.id}`}>
              {selectable ? (
                <td className="col-check">
                  <input
                    type="checkbox"
                    aria-label={t("contacts.select", { name: c.name || c.phone || `#${c.id}` })}
                    checked={selected.has(c.id)}
                    onChange={() => onToggle(c.id)}
                    data-testid={`contact-select-${c.id}`}
                  />
                </td>
              ) : null}
              <td data-label={t("contacts.name")}>
                <Link to={`/contacts/${c.id}`} data-testid={`contact-link-${c.id}`}>
                  {c.erased_at ? <span className="muted">{t("erase.anonymous", { id: String(c.id) })}</span> : c.name || c.phone || `#${c.id}`}
                </Link>
                {c.marketing_opt_out ? <span className="badge badge-danger badge-gap">{t("inbox.optedOutShort")}</span> : null}
              </td>
              <td data-label={t("contacts.phone")}>{c.phone || <span className="muted">—</span>}</td>
              <td data-label={t("contacts.city")}>{c.city || <span className="muted">—</span>}</td>
              <td data-label={t("contacts.labels")}>
                <LabelChips labels={c.labels ?? []} />
              </td>
              <td data-label={t("contacts.owner")}>{c.owner_name || <span className="muted">—</span>}</td>
              <td data-label={t("contacts.orders")}>{c.order_count ?? 0}</td>
              <td data-label={t("contacts.totalSpent")}>{formatMoney(c.total_spent ?? 0)}</td>
              <td data-label={t("contacts.lastOrder")}>{c.last_order_at ? fmt.date(c.last_order_at) : <span className="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function ContactsPage() {
  const { t } = useI18n();
  const [search, setSearch] = useState("");
  const [city, setCity] = useState("");
  const [filters, setFilters] = useState<ContactFilters>({ q: "", city: "" });
  const [contacts, setContacts] = useState<ContactRow[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [labels, setLabels] = useState<Label[]>([]);
  const [attributes, setAttributes] = useState<CustomAttribute[]>([]);
  const [members, setMembers] = useState<Member[]>([]);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [bulkLabel, setBulkLabel] = useState("");
  const [bulkAction, setBulkAction] = useState<"add" | "remove">("add");
  const [bulkOwner, setBulkOwner] = useState("");
  const [bulkBusy, setBulkBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const seq = useRef(0);

  // Debounce the text inputs.
  useEffect(() => {
    const timer = window.setTimeout(() => setFilters((f) => (f.q === search.trim() && f.city === city.trim() ? f : { ...f, q: search.trim(), city: city.trim() })), 300);
    return () => window.clearTimeout(timer);
  }, [search, city]);

  const load = useCallback(async () => {
    const mine = ++seq.current;
    setContacts(null);
    try {
      const page = await endpoints.contacts(filters);
      if (mine !== seq.current) return;
      setContacts(page?.results ?? []);
      setNextCursor(page?.next_cursor ?? null);
      setError(null);
    } catch (err) {
      if (mine !== seq.current) return;
      setContacts([]);
      setError(errorMessage(err, t));
    }
  }, [filters, t]);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    let cancelled = false;
    endpoints.labels().then((l) => !cancelled && setLabels(l), () => {});
    endpoints.attributes().then((a) => !cancelled && setAttributes(a), () => {});
    endpoints.members().then((m) => !cancelled && setMembers(m), () => {});
    return () => {
      cancelled = true;
    };
  }, []);

  async function loadMore() {
    if (!nextCursor) return;
    setLoadingMore(true);
    const mine = seq.current;
    try {
      const page = await endpoints.contacts(filters, nextCursor);
      if (mine !== seq.current) return;
      setContacts((old) => {
        const ids = new Set((old ?? []).map((c) => c.id));
        return [...(old ?? []), ...(page?.results ?? []).filter((c) => !ids.has(c.id))];
      });
      setNextCursor(page?.next_cursor ?? null);
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setLoadingMore(false);
    }
  }

  function toggle(id: number) {
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  function toggleAll() {
    const list = contacts ?? [];
    setSelected((s) => (list.every((c) => s.has(c.id)) ? new Set() : new Set(list.map((c) => c.id))));
  }

  async function applyBulk() {
    if (!selected.size || (!bulkLabel && !bulkOwner)) return;
    setBulkBusy(true);
    setError(null);
    setNotice(null);
    const labelId = bulkLabel ? Number(bulkLabel) : null;
    const payload: Parameters<typeof endpoints.bulkContacts>[0] = {
      ids: [...selected],
      add_label_ids: labelId !== null && bulkAction === "add" ? [labelId] : [],
      remove_label_ids: labelId !== null && bulkAction === "remove" ? [labelId] : [],
    };
    if (bulkOwner) payload.owner_id = bulkOwner === "none" ? null : Number(bulkOwner);
    try {
      const res = await endpoints.bulkContacts(payload);
      setNotice(t("contacts.bulkDone", { count: res?.updated ?? selected.size }));
      setSelected(new Set());
      setBulkLabel("");
      setBulkOwner("");
      await load();
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setBulkBusy(false);
    }
  }

  function onCreated(contact: ContactDetail) {
    setCreating(false);
    setContacts((old) => [contact, ...(old ?? []).filter((c) => c.id !== contact.id)]);
    setNotice(t("contacts.created", { name: contact.name || contact.phone || `#${contact.id}` }));
  }

  const hasFilters = !!(filters.q || filters.city || filters.label || filters.owner || filters.consent);

  return (
    <div className="stack">
      <div className="toolbar">
        <div className="search-box toolbar-search">
          <Icon name="search" className="icon icon-xs" />
          <input
            type="search"
            aria-label={t("contacts.search")}
            placeholder={t("contacts.search")}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid="contacts-search"
          />
        </div>
        <select
          aria-label={t("contacts.filterLabel")}
          value={filters.label == null ? "" : String(filters.label)}
          onChange={(e) => setFilters((f) => ({ ...f, label: e.target.value || null }))}
          data-testid="contacts-filter-label"
        >
          <option value="">{t("contacts.allLabels")}</option>
          {labels.map((l) => (
            <option key={l.id} value={String(l.id)}>
              {l.name}
            </option>
          ))}
        </select>
        <select
          aria-label={t("contacts.filterConsent")}
          value={filters.consent ?? ""}
          onChange={(e) => setFilters((f) => ({ ...f, consent: e.target.value as Consent | "" }))}
          data-testid="contacts-filter-consent"
        >
          <option value="">{t("contacts.allConsent")}</option>
          <option value="opted_in">{t("contacts.consent.opted_in")}</option>
          <option value="opted_out">{t("contacts.consent.opted_out")}</option>
        </select>
        <select
          aria-label={t("contacts.filterOwner")}
          value={filters.owner == null ? "" : String(filters.owner)}
          onChange={(e) => setFilters((f) => ({ ...f, owner: e.target.value || null }))}
          data-testid="contacts-filter-owner"
        >
          <option value="">{t("contacts.allOwners")}</option>
          <option value="none">{t("contacts.noOwner")}</option>
          {members.map((m) => (
            <option key={m.user_id} value={String(m.user_id)}>
              {m.name || m.email}
            </option>
          ))}
        </select>
        <input
          className="toolbar-input"
          aria-label={t("contacts.city")}
          placeholder={t("contacts.city")}
          value={city}
          onChange={(e) => setCity(e.target.value)}
          data-testid="contacts-filter-city"
        />
        <div className="toolbar-actions">
          <a className="btn btn-secondary btn-sm" href={endpoints.contactsExportUrl(filters)} download data-testid="contacts-export">
            {t("contacts.export")}
          </a>
          <button type="button" className="btn btn-secondary btn-sm" onClick={() => setImporting(true)} data-testid="contacts-import">
            {t("contacts.import")}
          </button>
          <button type="button" className="btn btn-primary btn-sm" onClick={() => setCreating(true)} data-testid="contact-new">
            {t("contacts.new")}
          </button>
        </div>
      </div>

      {notice ? (
        <Alert kind="success" testId="contacts-notice">
          {notice}
        </Alert>
      ) : null}
      {error ? (
        <Alert kind="error" testId="contacts-error">
          {error}
        </Alert>
      ) : null}

      {selected.size > 0 ? (
        <div className="bulk-bar" data-testid="contacts-bulk-bar">
          <strong>{t("contacts.selected", { count: selected.size })}</strong>
          <select aria-label={t("contacts.bulkAction")} value={bulkAction} onChange={(e) => setBulkAction(e.target.value as "add" | "remove")} data-testid="contacts-bulk-action">
            <option value="add">{t("contacts.bulkAddLabel")}</option>
            <option value="remove">{t("contacts.bulkRemoveLabel")}</option>
          </select>
          <select aria-label={t("contacts.labels")} value={bulkLabel} onChange={(e) => setBulkLabel(e.target.value)} data-testid="contacts-bulk-label">
            <option value="">{t("contacts.chooseLabel")}</option>
            {labels.map((l) => (
              <option key={l.id} value={String(l.id)}>
                {l.name}
              </option>
            ))}
          </select>
          <select aria-label={t("contacts.owner")} value={bulkOwner} onChange={(e) => setBulkOwner(e.target.value)} data-testid="contacts-bulk-owner">
            <option value="">{t("contacts.keepOwner")}</option>
            <option value="none">{t("contacts.noOwner")}</option>
            {members.map((m) => (
              <option key={m.user_id} value={String(m.user_id)}>
                {m.name || m.email}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-primary btn-sm" disabled={bulkBusy || (!bulkLabel && !bulkOwner)} onClick={() => void applyBulk()} data-testid="contacts-bulk-apply">
            {t("contacts.bulkApply")}
          </button>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setSelected(new Set())}>
            {t("common.cancel")}
          </button>
        </div>
      ) : null}

      <div className="card card-flush">
        {contacts === null ? (
          <Spinner />
        ) : contacts.length === 0 ? (
          <EmptyState icon={<Icon name="contacts" className="icon icon-xl" />} title={hasFilters ? t("inbox.noResults") : t("contacts.empty")}>
            {hasFilters ? t("inbox.noResultsText") : t("contacts.emptyText")}
          </EmptyState>
        ) : (
          <>
            <ContactsTable contacts={contacts} selected={selected} onToggle={toggle} onToggleAll={toggleAll} />
            {nextCursor ? (
              <div className="center list-more">
                <button type="button" className="btn btn-ghost btn-sm" disabled={loadingMore} onClick={() => void loadMore()} data-testid="contacts-load-more">
                  {t("inbox.loadMore")}
                </button>
              </div>
            ) : null}
          </>
        )}
      </div>

      {creating ? (
        <Modal title={t("contacts.new")} onClose={() => setCreating(false)} testId="contact-dialog" wide>
          <ContactForm contact={null} labels={labels} attributes={attributes} members={members} onSaved={onCreated} onCancel={() => setCreating(false)} />
        </Modal>
      ) : null}
      {importing ? <ImportDialog onClose={() => setImporting(false)} onFinished={() => void load()} /> : null}
    </div>
  );
}
