import { useEffect, useState, type FormEvent, type KeyboardEvent } from "react";
import { Alert, ErrorAlert } from "../../components/Alert";
import { errorMessage, splitErrors } from "../../components/errors";
import { Spinner } from "../../components/Spinner";
import { useI18n, type TKey } from "../../i18n";
import { broadcastApi, type ConsentSettings } from "../broadcasts/api";

/** The API's limits. */
export const MAX_STOP_WORDS = 50;
export const MAX_STOP_WORD_CHARS = 60;
export const MAX_CONFIRMATION_CHARS = 1000;

/** As the server compares a customer's reply with the words: case, repeated spaces and a trailing "!" or "." do not matter. */
export function normaliseStopWord(text: string): string {
  return text
    .normalize("NFKC")
    .toLocaleLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .join(" ")
    .replace(/^[ .!]+|[ .!]+$/g, "");
}

/** Why a word cannot be added, or null when it can. */
function refusal(word: string, words: string[], builtIn: string[]): TKey | null {
  if (!word) return "optout.error.empty";
  if (Array.from(word).length > MAX_STOP_WORD_CHARS) return "optout.error.long";
  if (builtIn.includes(word)) return "optout.error.builtIn";
  if (words.includes(word)) return "optout.error.duplicate";
  if (words.length >= MAX_STOP_WORDS) return "optout.error.tooMany";
  return null;
}

/** Settings > Opt-out: the words that stop promotions (built-in ones read-only) and the confirmation customers get. */
export function OptOutPage() {
  const { t } = useI18n();
  const [loaded, setLoaded] = useState<ConsentSettings | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [words, setWords] = useState<string[]>([]);
  const [draft, setDraft] = useState("");
  const [wordError, setWordError] = useState<string | null>(null);
  const [confirmation, setConfirmation] = useState("");
  const [saving, setSaving] = useState(false);
  const [alert, setAlert] = useState<string[]>([]);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[]>>({});
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    let cancelled = false;
    broadcastApi.consent().then(
      (data) => {
        if (cancelled) return;
        setLoaded(data);
        setWords(data.stop_words);
        setConfirmation(data.confirmation);
      },
      (err) => !cancelled && setLoadError(errorMessage(err, t)),
    );
    return () => {
      cancelled = true;
    };
  }, [t]);

  /** Adds what is typed; returns the words after it (unchanged when refused). */
  function addDraft(): string[] | null {
    const word = normaliseStopWord(draft);
    const why = refusal(word, words, loaded?.built_in_words ?? []);
    if (why) {
      setWordError(t(why, { max: MAX_STOP_WORDS, chars: MAX_STOP_WORD_CHARS }));
      return null;
    }
    const next = [...words, word];
    setWords(next);
    setDraft("");
    setWordError(null);
    setSaved(false);
    return next;
  }

  function onWordKey(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === "Enter" || e.key === ",") {
      e.preventDefault();
      addDraft();
    }
  }

  async function save(e: FormEvent) {
    e.preventDefault();
    setAlert([]);
    setFieldErrors({});
    setSaved(false);
    // A word typed but not added yet is meant to be saved too.
    const toSave = draft.trim() ? addDraft() : words;
    if (toSave === null) return;
    if (Array.from(confirmation.trim()).length > MAX_CONFIRMATION_CHARS) {
      setFieldErrors({ confirmation: [t("optout.error.confirmationLong", { max: MAX_CONFIRMATION_CHARS })] });
      return;
    }
    setSaving(true);
    try {
      const data = await broadcastApi.saveConsent({ stop_words: toSave, confirmation: confirmation.trim() });
      setLoaded(data);
      setWords(data.stop_words);
      setConfirmation(data.confirmation);
      setSaved(true);
    } catch (err) {
      const split = splitErrors(err, ["stop_words", "confirmation"], t);
      setFieldErrors(split.fields);
      setAlert(split.alert);
    } finally {
      setSaving(false);
    }
  }

  if (loadError) {
    return (
      <Alert kind="error" testId="optout-load-error">
        {loadError}
      </Alert>
    );
  }
  if (loaded === null) return <Spinner />;

  const wordErrors = [...(wordError ? [wordError] : []), ...(fieldErrors.stop_words ?? [])];

  return (
    <form className="card stack" onSubmit={save} noValidate data-testid="optout-form">
      <div>
        <h2>{t("optout.title")}</h2>
        <p className="muted small">{t("optout.intro")}</p>
      </div>
      <ErrorAlert messages={alert} />
      {saved ? (
        <Alert kind="success" testId="optout-saved">
          {t("optout.saved")}
        </Alert>
      ) : null}

      <fieldset className="fieldset field">
        <legend className="label">{t("optout.builtIn")}</legend>
        <ul className="chips chips-inline" data-testid="optout-builtin">
          {loaded.built_in_words.map((w) => (
            <li key={w} className="chip chip-note">
              {w}
            </li>
          ))}
        </ul>
        <div className="field-hint">{t("optout.builtInHint")}</div>
      </fieldset>

      <fieldset className={`fieldset field${wordErrors.length ? " field-invalid" : ""}`}>
        <legend className="label">{t("optout.words")}</legend>
        {words.length === 0 ? (
          <p className="muted small">{t("optout.noWords")}</p>
        ) : (
          <ul className="chips chips-inline" data-testid="optout-words">
            {words.map((w) => (
              <li key={w} className="chip" data-testid={`optout-word-${w}`}>
                {w}
                <button
                  type="button"
                  className="chip-remove"
                  aria-label={t("optout.removeWord", { word: w })}
                  onClick={() => {
                    setWords((list) => list.filter((x) => x !== w));
                    setSaved(false);
                  }}
                  data-testid={`optout-word-remove-${w}`}
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <div className="button-row">
          <input
            id="optout-word"
            aria-label={t("optout.newWord")}
            placeholder={t("optout.newWordPlaceholder")}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onWordKey}
            autoComplete="off"
            data-testid="optout-word-input"
          />
          <button type="button" className="btn btn-secondary" onClick={() => addDraft()} data-testid="optout-word-add">
            {t("optout.addWord")}
          </button>
        </div>
        {wordErrors.length ? (
          <div className="field-error" data-testid="optout-word-error">
            {wordErrors.join(" ")}
          </div>
        ) : null}
      </fieldset>

      <div className={`field${fieldErrors.confirmation ? " field-invalid" : ""}`}>
        <label htmlFor="optout-confirmation">{t("optout.confirmation")}</label>
        <textarea
          id="optout-confirmation"
          rows={3}
          value={confirmation}
          onChange={(e) => {
            setConfirmation(e.target.value);
            setSaved(false);
          }}
          placeholder={t("optout.confirmationPlaceholder")}
          data-testid="optout-confirmation"
        />
        <div className="field-hint">{t("optout.confirmationHint")}</div>
        {fieldErrors.confirmation ? (
          <div className="field-error" data-testid="optout-confirmation-error">
            {fieldErrors.confirmation.join(" ")}
          </div>
        ) : null}
      </div>

      <div className="button-row">
        <button type="submit" className="btn btn-primary" disabled={saving} data-testid="optout-save">
          {t("common.save")}
        </button>
      </div>
    </form>
  );
}
