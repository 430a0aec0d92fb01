import { useState, type FormEvent } from "react";
import { endpoints, type AttributeValue, type ContactDetail, type ContactPayload, type CustomAttribute, type Gender, type Label, type Member } from "../../api";
import { ErrorAlert } from "../../components/Alert";
import { splitErrors } from "../../components/errors";
import { Field } from "../../components/Field";
import { useI18n } from "../../i18n";

const FIELDS = ["name", "phone", "email", "city", "address", "birthday", "gender", "label_ids", "attributes", "owner_id", "notes", "marketing_opt_out"] as const;

export function contactPayload(c: ContactDetail | null): ContactPayload {
  return {
    name: c?.name ?? "",
    phone: c?.phone ?? "",
    email: c?.email ?? "",
    city: c?.city ?? "",
    address: c?.address ?? "",
    birthday: c?.birthday ?? null,
    gender: c?.gender ?? "",
    label_ids: c?.labels.map((l) => l.id) ?? [],
    attributes: { ...(c?.attributes ?? {}) },
    owner_id: c?.owner_id ?? null,
    notes: c?.notes ?? "",
    marketing_opt_out: c?.marketing_opt_out ?? false,
  };
}

export function AttributeInput({
  attribute,
  value,
  onChange,
  testId,
  id,
}: {
  attribute: CustomAttribute;
  value: AttributeValue | undefined;
  onChange: (value: AttributeValue) => void;
  testId: string;
  id: string;
}) {
  const { t } = useI18n();
  if (attribute.type === "checkbox") {
    return <input id={id} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} data-testid={testId} />;
  }
  if (attribute.type === "choice") {
    return (
      <select id={id} value={value == null ? "" : String(value)} onChange={(e) => onChange(e.target.value || null)} data-testid={testId}>
        <option value="">{t("common.none")}</option>
        {attribute.choices.map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  }
  const type = attribute.type === "number" ? "number" : attribute.type === "date" ? "date" : "text";
  return (
    <input
      id={id}
      type={type}
      value={value == null ? "" : String(value)}
      onChange={(e) => {
        const raw = e.target.value;
        onChange(raw === "" ? null : attribute.type === "number" ? Number(raw) : raw);
      }}
      data-testid={testId}
    />
  );
}

/** Create / edit form for a contact. */
export function ContactForm({
  contact,
  labels,
  attributes,
  members,
  onSaved,
  onCancel,
}: {
  contact: ContactDetail | null;
  labels: Label[];
  attributes: CustomAttribute[];
  members: Member[];
  onSaved: (contact: ContactDetail) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [form, setForm] = useState<ContactPayload>(() => contactPayload(contact));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [alert, setAlert] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);

  function set<K extends keyof ContactPayload>(key: K, value: ContactPayload[K]) {
    setForm((f) => ({ ...f, [key]: value }));
  }

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    if (!form.name.trim() && !form.phone.trim()) {
      setFieldErrors({ name: [t("contacts.nameOrPhone")] });
      return;
    }
    setSaving(true);
    setFieldErrors({});
    setAlert([]);
    try {
      const saved = contact ? await endpoints.updateContact(contact.id, form) : await endpoints.createContact(form);
      onSaved(saved);
    } catch (err) {
      const split = splitErrors(err, FIELDS, t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="form" onSubmit={onSubmit} noValidate data-testid="contact-form">
      <ErrorAlert messages={alert} />
      <div className="form-grid form-grid-2">
        <Field id="contact_name" label={t("contacts.name")} value={form.name} onChange={(e) => set("name", e.target.value)} errors={fieldErrors.name} data-testid="contact-name" autoComplete="off" />
        <Field
          id="contact_phone"
          label={t("contacts.phone")}
          type="tel"
          value={form.phone}
          onChange={(e) => set("phone", e.target.value)}
          errors={fieldErrors.phone}
          data-testid="contact-phone"
          placeholder="0812…"
          autoComplete="off"
        />
        <Field id="contact_email" label={t("contacts.email")} type="email" value={form.email} onChange={(e) => set("email", e.target.value)} errors={fieldErrors.email} data-testid="contact-email" optionalLabel={t("common.optional")} />
        <Field id="contact_city" label={t("contacts.city")} value={form.city} onChange={(e) => set("city", e.target.value)} errors={fieldErrors.city} data-testid="contact-city" optionalLabel={t("common.optional")} />
        <Field id="contact_address" label={t("contacts.address")} value={form.address} onChange={(e) => set("address", e.target.value)} errors={fieldErrors.address} data-testid="contact-address" optionalLabel={t("common.optional")} />
        <Field
          id="contact_birthday"
          label={t("contacts.birthday")}
          type="date"
          value={form.birthday ?? ""}
          onChange={(e) => set("birthday", e.target.value || null)}
          errors={fieldErrors.birthday}
          data-testid="contact-birthday"
          optionalLabel={t("common.optional")}
        />
        <div className={`field${fieldErrors.gender ? " field-invalid" : ""}`}>
          <label htmlFor="contact_gender">{t("contacts.gender")}</label>
          <select id="contact_gender" value={form.gender} onChange={(e) => set("gender", e.target.value as Gender)} data-testid="contact-gender">
            <option value="">{t("common.none")}</option>
            <option value="f">{t("contacts.gender.f")}</option>
            <option value="m">{t("contacts.gender.m")}</option>
            <option value="o">{t("contacts.gender.o")}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="contact_owner">{t("contacts.owner")}</label>
          <select
            id="contact_owner"
            value={form.owner_id === null ? "" : String(form.owner_id)}
            onChange={(e) => set("owner_id", e.target.value ? Number(e.target.value) : null)}
            data-testid="contact-form-owner"
          >
            <option value="">{t("contacts.noOwner")}</option>
            {members.map((m) => (
              <option key={m.user_id} value={String(m.user_id)}>
                {m.name || m.email}
              </option>
            ))}
          </select>
        </div>
      </div>
      {labels.length ? (
        <fieldset className="field fieldset">
          <legend className="label">{t("contacts.labels")}</legend>
          <div className="chips chips-inline">
            {labels.map((l) => (
              <label key={l.id} className="chip">
                <input
                  type="checkbox"
                  checked={form.label_ids.includes(l.id)}
                  onChange={(e) => set("label_ids", e.target.checked ? [...form.label_ids, l.id] : form.label_ids.filter((x) => x !== l.id))}
                  data-testid={`contact-form-label-${l.id}`}
                />
                <span className="label-dot" style={{ background: l.color || undefined }} aria-hidden="true" />
                {l.name}
              </label>
            ))}
          </div>
        </fieldset>
      ) : null}
      {attributes.length ? (
        <div className="form-grid form-grid-2">
          {attributes.map((a) => (
            <div key={a.id} className={`field${a.type === "checkbox" ? " field-inline" : ""}`}>
              <label htmlFor={`contact_attr_${a.key}`}>{a.label || a.key}</label>
              <AttributeInput
                id={`contact_attr_${a.key}`}
                attribute={a}
                value={form.attributes[a.key]}
                onChange={(v) => set("attributes", { ...form.attributes, [a.key]: v })}
                testId={`contact-attr-${a.key}`}
              />
            </div>
          ))}
        </div>
      ) : null}
      {fieldErrors.attributes ? <div className="field-error">{fieldErrors.attributes.join(" ")}</div> : null}
      <div className="field">
        <label htmlFor="contact_notes">{t("contacts.notes")}</label>
        <textarea id="contact_notes" rows={2} value={form.notes} onChange={(e) => set("notes", e.target.value)} data-testid="contact-notes" />
      </div>
      <label className="checkbox">
        <input type="checkbox" checked={form.marketing_opt_out} onChange={(e) => set("marketing_opt_out", e.target.checked)} data-testid="contact-form-opt-out" />
        {t("contacts.optOutCheckbox")}
      </label>
      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="contact-save">
          {t("common.save")}
        </button>
        <button type="button" className="btn btn-ghost" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
