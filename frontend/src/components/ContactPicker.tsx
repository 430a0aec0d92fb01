import { useEffect, useState } from "react";
import { endpoints, type ContactRef, type ContactRow } from "../api";
import { useI18n } from "../i18n";

/**
 * Search-as-you-type contact chooser. While empty, `testId` is on the search input and each result is
 * `${testId}-option-<id>`; once chosen, `testId` is on the chosen contact (with `data-contact-id`).
 */
export function ContactPicker({
  id,
  label,
  value,
  onChange,
  testId,
  excludeId,
  excludeIds = [],
  errors = [],
}: {
  id: string;
  label: string;
  value: ContactRef | null;
  onChange: (contact: ContactRef | null) => void;
  testId: string;
  excludeId?: number;
  /** Contacts not offered (already chosen elsewhere), filtered as they change without searching again. */
  excludeIds?: number[];
  errors?: string[];
}) {
  const { t } = useI18n();
  const [search, setSearch] = useState("");
  const [results, setResults] = useState<ContactRow[] | null>(null);

  useEffect(() => {
    if (value || !search.trim()) {
      setResults(null);
      return;
    }
    let cancelled = false;
    const timer = window.setTimeout(() => {
      endpoints.contacts({ q: search }).then(
        (page) => !cancelled && setResults((page?.results ?? []).filter((c) => c.id !== excludeId)),
        () => !cancelled && setResults([]),
      );
    }, 250);
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, [search, value, excludeId]);
  const offered = results?.filter((c) => !excludeIds.includes(c.id)) ?? null;

  return (
    <div className={`field contact-picker${errors.length ? " field-invalid" : ""}`}>
      <label htmlFor={id}>{label}</label>
      {value ? (
        <div className="picked">
          <span data-testid={testId} data-contact-id={value.id} className="picked-name">
            <strong>{value.name || value.phone}</strong>
            {value.name && value.phone ? <span className="muted small"> · {value.phone}</span> : null}
          </span>
          <button type="button" id={id} className="btn btn-ghost btn-sm" data-testid={`${testId}-clear`} onClick={() => onChange(null)}>
            {t("picker.change")}
          </button>
        </div>
      ) : (
        <>
          <input
            id={id}
            type="search"
            autoComplete="off"
            placeholder={t("picker.searchContact")}
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            data-testid={testId}
          />
          {offered !== null ? (
            <ul className="picker-results" role="listbox" aria-label={label}>
              {offered.length === 0 ? <li className="muted small picker-empty">{t("picker.noContacts")}</li> : null}
              {offered.map((c) => (
                <li key={c.id}>
                  <button
                    type="button"
                    role="option"
                    aria-selected="false"
                    className="picker-option"
                    data-testid={`${testId}-option-${c.id}`}
                    onClick={() => {
                      onChange({ id: c.id, name: c.name, phone: c.phone });
                      setSearch("");
                    }}
                  >
                    <strong>{c.name || c.phone}</strong>
                    <span className="muted small">{[c.phone, c.city].filter(Boolean).join(" · ")}</span>
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
        </>
      )}
      {errors.length ? (
        <div className="field-error" data-testid={`${id}-error`}>
          {errors.join(" ")}
        </div>
      ) : null}
    </div>
  );
}
