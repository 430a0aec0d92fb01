import { useEffect, useState } from "react";
import { endpoints, type ContactRef } from "../../api";
import { ContactPicker } from "../../components/ContactPicker";
import { useI18n } from "../../i18n";

/** Hand-picked recipients: found by name, number or email, shown as removable chips. */
export function AudienceContacts({ ids, onChange }: { ids: number[]; onChange: (ids: number[]) => void }) {
  const { t } = useI18n();
  const [known, setKnown] = useState<Record<number, ContactRef>>({});

  // A saved draft carries ids only: look up the names of those not seen yet (a hand-picked list is short).
  const missing = ids.filter((id) => !(id in known));
  const missingKey = missing.join(",");
  useEffect(() => {
    if (!missingKey) return;
    let cancelled = false;
    for (const id of missingKey.split(",").map(Number)) {
      endpoints.contact(id).then(
        (c) => !cancelled && setKnown((k) => ({ ...k, [id]: { id, name: c.name, phone: c.phone } })),
        () => !cancelled && setKnown((k) => ({ ...k, [id]: { id, name: "", phone: null } })),
      );
    }
    return () => {
      cancelled = true;
    };
  }, [missingKey]);

  function pick(contact: ContactRef | null) {
    if (!contact) return;
    setKnown((k) => ({ ...k, [contact.id]: contact }));
    if (!ids.includes(contact.id)) onChange([...ids, contact.id]);
  }

  const nameOf = (id: number) => known[id]?.name || known[id]?.phone || `#${id}`;

  return (
    <fieldset className="fieldset field" data-testid="audience-contacts">
      <legend className="label">{t("broadcasts.compose.contacts")}</legend>
      <ContactPicker id="audience-contact-search" label={t("broadcasts.compose.contactsAdd")} value={null} onChange={pick} excludeIds={ids} testId="audience-contact-search" />
      {ids.length === 0 ? (
        <p className="muted small">{t("broadcasts.compose.contactsNone")}</p>
      ) : (
        <ul className="chips chips-inline" data-testid="audience-contacts-picked">
          {ids.map((id) => (
            <li key={id} className="chip" data-testid={`audience-contact-${id}`}>
              {nameOf(id)}
              {known[id]?.name && known[id]?.phone ? <span className="muted small">{known[id].phone}</span> : null}
              <button
                type="button"
                className="chip-remove"
                aria-label={t("broadcasts.compose.contactRemove", { name: nameOf(id) })}
                onClick={() => onChange(ids.filter((x) => x !== id))}
                data-testid={`audience-contact-remove-${id}`}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
