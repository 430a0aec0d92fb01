import { useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { ApiError, endpoints, type Conversation, type Message, type QuickReply, type WaTemplate } from "../../api";
import { ErrorAlert } from "../../components/Alert";
import { splitErrors } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { useI18n } from "../../i18n";
import { TemplatePicker } from "./TemplatePicker";

/** The "/shortcut" being typed just before the caret, if any ("/" must start the text or follow whitespace). */
export function slashQuery(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/([\w-]*)$/.exec(before);
  if (!match) return null;
  return { start: before.length - match[2].length - 1, query: match[2] };
}

/** Quick replies whose shortcut starts with the query first, then those that contain it. */
export function filterQuickReplies(items: QuickReply[], query: string): QuickReply[] {
  const q = query.toLowerCase();
  const starts = items.filter((r) => r.shortcut.toLowerCase().startsWith(q));
  const contains = items.filter((r) => !r.shortcut.toLowerCase().startsWith(q) && (r.shortcut.toLowerCase().includes(q) || r.text.toLowerCase().includes(q)));
  return [...starts, ...contains].slice(0, 8);
}

export function ReplyBox({
  conversation,
  quickReplies,
  templates,
  onSent,
  onWindowClosed,
}: {
  conversation: Conversation;
  quickReplies: QuickReply[];
  templates: WaTemplate[] | null;
  onSent: (message: Message) => void;
  /** The server says the 24-hour window closed: the parent should refetch the conversation. */
  onWindowClosed: () => void;
}) {
  const { t } = useI18n();
  const [text, setText] = useState("");
  const [note, setNote] = useState(false);
  const [sending, setSending] = useState(false);
  const [alert, setAlert] = useState<string[]>([]);
  const [caret, setCaret] = useState(0);
  const [pickerClosed, setPickerClosed] = useState(false);
  const [active, setActive] = useState(0);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  /** Sends a photo or document, with the typed text as its caption. */
  async function attach(file: File) {
    setSending(true);
    setAlert([]);
    const form = new FormData();
    form.append("file", file);
    form.append("caption", text.trim());
    try {
      const message = await endpoints.sendAttachment(conversation.id, form);
      setText("");
      onSent(message);
    } catch (err) {
      if (err instanceof ApiError && err.code === "window_closed") onWindowClosed();
      setAlert(splitErrors(err, [], t).alert);
    } finally {
      setSending(false);
      if (fileInput.current) fileInput.current.value = "";
    }
  }

  const slash = slashQuery(text, caret);
  const options = useMemo(() => (slash ? filterQuickReplies(quickReplies, slash.query) : []), [slash?.query, quickReplies]); // eslint-disable-line react-hooks/exhaustive-deps
  const pickerOpen = !!slash && !pickerClosed && quickReplies.length > 0;
  const locked = !conversation.window_open && !note;

  function update(value: string, position: number) {
    setText(value);
    setCaret(position);
    setPickerClosed(false);
    setActive(0);
  }

  function choose(reply: QuickReply) {
    if (!slash) return;
    const after = text.slice(caret);
    const next = text.slice(0, slash.start) + reply.text + after;
    const position = slash.start + reply.text.length;
    setText(next);
    setCaret(position);
    setPickerClosed(true);
    requestAnimationFrame(() => {
      const el = textarea.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(position, position);
    });
  }

  async function submit() {
    const body = text.trim();
    if (!body || sending) return;
    setSending(true);
    setAlert([]);
    try {
      const message = note ? await endpoints.addNote(conversation.id, body) : await endpoints.sendMessage(conversation.id, body);
      onSent(message);
      setText("");
      setCaret(0);
    } catch (err) {
      if (err instanceof ApiError && err.code === "window_closed") onWindowClosed();
      setAlert(splitErrors(err, [], t).alert);
    } finally {
      setSending(false);
    }
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.nativeEvent.isComposing) return;
    if (pickerOpen && options.length > 0) {
      if (e.key === "ArrowDown") {
        e.preventDefault();
        setActive((a) => (a + 1) % options.length);
        return;
      }
      if (e.key === "ArrowUp") {
        e.preventDefault();
        setActive((a) => (a - 1 + options.length) % options.length);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        choose(options[Math.min(active, options.length - 1)]);
        return;
      }
    }
    if (pickerOpen && e.key === "Escape") {
      e.preventDefault();
      setPickerClosed(true);
      return;
    }
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void submit();
    }
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    void submit();
  }

  return (
    <div className={`reply-box${note ? " reply-note" : ""}`} data-testid="reply-box">
      <div className="reply-modes" role="group" aria-label={t("inbox.replyMode")}>
        <button
          type="button"
          className={`chip${note ? " chip-note" : ""}`}
          aria-pressed={note}
          data-testid="note-toggle"
          onClick={() => {
            setNote((n) => !n);
            setAlert([]);
          }}
        >
          <Icon name="note" />
          {t("inbox.internalNote")}
        </button>
        {note ? <span className="muted small">{t("inbox.noteHint")}</span> : null}
      </div>
      {locked ? (
        <div className="window-locked">
          <div className="alert alert-warning lock-message" data-testid="window-locked">
            <Icon name="lock" />
            <span>{t("inbox.windowLocked")}</span>
          </div>
          <TemplatePicker conversationId={conversation.id} templates={templates} onSent={onSent} />
        </div>
      ) : (
        <form className="reply-form" onSubmit={onSubmit} noValidate>
          <ErrorAlert messages={alert} />
          <div className="reply-input">
            {pickerOpen ? (
              <ul className="quick-reply-picker" role="listbox" aria-label={t("inbox.quickReplies")} data-testid="quick-reply-picker">
                {options.length === 0 ? (
                  <li className="muted small qr-empty">{t("inbox.noQuickReplyMatch")}</li>
                ) : (
                  options.map((r, i) => (
                    <li key={r.id} role="option" aria-selected={i === active}>
                      <button
                        type="button"
                        className={`qr-option${i === active ? " active" : ""}`}
                        data-testid={`quick-reply-option-${r.shortcut}`}
                        onMouseDown={(e) => e.preventDefault()}
                        onClick={() => choose(r)}
                      >
                        <strong>/{r.shortcut}</strong>
                        <span className="qr-text">{r.text}</span>
                      </button>
                    </li>
                  ))
                )}
              </ul>
            ) : null}
            <label htmlFor="reply-text" className="visually-hidden">
              {note ? t("inbox.internalNote") : t("inbox.reply")}
            </label>
            <textarea
              id="reply-text"
              ref={textarea}
              rows={2}
              value={text}
              placeholder={note ? t("inbox.notePlaceholder") : t("inbox.replyPlaceholder")}
              data-testid="reply-text"
              onChange={(e) => update(e.target.value, e.target.selectionStart ?? e.target.value.length)}
              onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? text.length)}
              onKeyDown={onKeyDown}
            />
            {!note ? (
              <>
                <input
                  ref={fileInput}
                  type="file"
                  accept="image/jpeg,image/png,application/pdf"
                  className="visually-hidden"
                  data-testid="reply-attach-file"
                  onChange={(e) => {
                    const file = e.target.files?.[0];
                    if (file) void attach(file);
                  }}
                />
                <button
                  type="button"
                  className="btn btn-ghost"
                  disabled={sending}
                  aria-label={t("inbox.attach")}
                  title={t("inbox.attach")}
                  data-testid="reply-attach"
                  onClick={() => fileInput.current?.click()}
                >
                  📎
                </button>
              </>
            ) : null}
            <button type="submit" className="btn btn-primary" disabled={sending || !text.trim()} data-testid="reply-send">
              <Icon name="send" />
              <span>{note ? t("inbox.addNote") : t("inbox.send")}</span>
            </button>
          </div>
          <p className="muted small reply-hint">{t("inbox.replyHint")}</p>
        </form>
      )}
    </div>
  );
}
