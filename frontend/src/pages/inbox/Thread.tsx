import { Fragment, useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import { endpoints, type Conversation, type Member, type Message, type QuickReply, type WaTemplate } from "../../api";
import { Alert } from "../../components/Alert";
import { Modal } from "../../components/Modal";
import { errorMessage } from "../../components/errors";
import { Icon } from "../../components/Icon";
import { Spinner } from "../../components/Spinner";
import { formatMoney, minutesUntil } from "../../format";
import { useI18n } from "../../i18n";
import { affects, useLiveEmit, useLiveEvents } from "../../live";
import { useFormatters } from "../../session";
import { OrderForm } from "../orders/OrderForm";
import { contactLabel } from "./InboxNavBadge";
import { MessageBubble } from "./MessageBubble";
import { ReplyBox } from "./ReplyBox";

/** Keeps older pages already loaded, replaces everything from the newest page on. */
export function mergeMessages(old: Message[] | null, latest: Message[]): Message[] {
  if (!old || old.length === 0 || latest.length === 0) return latest.length || !old ? latest : old;
  const ids = new Set(latest.map((m) => m.id));
  const oldest = Math.min(...latest.map((m) => m.id));
  return [...old.filter((m) => !ids.has(m.id) && m.id < oldest), ...latest];
}

function maxInboundId(messages: Message[]): number {
  return messages.reduce((max, m) => (m.direction === "in" && m.id > max ? m.id : max), 0);
}

function WindowLabel({ conversation }: { conversation: Conversation }) {
  const { t } = useI18n();
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = window.setInterval(() => setTick((n) => n + 1), 30000);
    return () => window.clearInterval(timer);
  }, []);
  if (!conversation.window_open) {
    return (
      <span className="window-label window-closed" data-testid="window-countdown">
        <Icon name="lock" className="icon icon-xs" />
        {t("inbox.windowClosedShort")}
      </span>
    );
  }
  const minutes = minutesUntil(conversation.window_expires_at);
  if (minutes === null) return null;
  const hours = Math.floor(Math.max(minutes, 0) / 60);
  const mins = Math.max(minutes, 0) % 60;
  return (
    <span className={`window-label${minutes < 60 ? " window-soon" : ""}`} data-testid="window-countdown">
      <Icon name="clock" className="icon icon-xs" />
      {minutes <= 0 ? t("inbox.windowClosing") : hours > 0 ? t("inbox.windowLeftHours", { h: hours, m: mins }) : t("inbox.windowLeftMinutes", { m: mins })}
    </span>
  );
}

export function Thread({
  conversationId,
  members,
  templates,
  quickReplies,
  onConversation,
  onBack,
  onShowContact,
  onOrderCreated,
}: {
  conversationId: number;
  members: Member[];
  templates: WaTemplate[] | null;
  quickReplies: QuickReply[];
  onConversation: (conversation: Conversation) => void;
  onBack: () => void;
  onShowContact: () => void;
  onOrderCreated?: () => void;
}) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const emit = useLiveEmit();
  const [conversation, setConversation] = useState<Conversation | null>(null);
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [ordering, setOrdering] = useState(false);
  const [orderNotice, setOrderNotice] = useState<string | null>(null);
  const lastInbound = useRef(0);
  const alive = useRef(true);
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const onConversationRef = useRef(onConversation);
  onConversationRef.current = onConversation;

  const apply = useCallback((c: Conversation) => {
    setConversation(c);
    onConversationRef.current(c);
  }, []);

  const markRead = useCallback(
    async (c: Conversation) => {
      try {
        await endpoints.markRead(conversationId);
        if (!alive.current) return;
        if (c.unread_count) apply({ ...c, unread_count: 0 });
        emit({ type: "local", conversation_id: conversationId });
      } catch {
        /* not fatal */
      }
    },
    [conversationId, apply, emit],
  );

  const refresh = useCallback(
    async (first: boolean) => {
      try {
        const [c, page] = await Promise.all([endpoints.conversation(conversationId), endpoints.messages(conversationId)]);
        if (!alive.current) return;
        const results = page?.results ?? [];
        apply(c);
        setMessages((old) => (first ? results : mergeMessages(old, results)));
        if (first) setHasMore(!!page?.has_more);
        setError(null);
        const newest = maxInboundId(results);
        const fresh = newest > lastInbound.current;
        lastInbound.current = Math.max(lastInbound.current, newest);
        if (first || fresh || c.unread_count > 0) void markRead(c);
      } catch (err) {
        if (!alive.current) return;
        if (first) setMessages([]);
        setError(errorMessage(err, t));
      }
    },
    [conversationId, apply, markRead, t],
  );

  useEffect(() => {
    alive.current = true;
    void refresh(true);
    return () => {
      alive.current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId]);

  useLiveEvents((events) => {
    if (affects(events, conversationId)) void refresh(false);
  });

  // Keep the view pinned to the newest message unless the user scrolled up.
  const lastId = messages && messages.length ? messages[messages.length - 1].id : 0;
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && stickToBottom.current) el.scrollTop = el.scrollHeight;
  }, [lastId]);

  async function loadOlder() {
    if (!messages?.length) return;
    setLoadingOlder(true);
    const el = scroller.current;
    const fromBottom = el ? el.scrollHeight - el.scrollTop : 0;
    try {
      const page = await endpoints.messages(conversationId, messages[0].id);
      if (!alive.current) return;
      const ids = new Set(messages.map((m) => m.id));
      setMessages((old) => [...(page?.results ?? []).filter((m) => !ids.has(m.id)), ...(old ?? [])]);
      setHasMore(!!page?.has_more);
      requestAnimationFrame(() => {
        if (el) el.scrollTop = el.scrollHeight - fromBottom;
      });
    } catch (err) {
      setError(errorMessage(err, t));
    } finally {
      setLoadingOlder(false);
    }
  }

  async function update(changes: { status?: "open" | "closed"; assignee_id?: number | null }) {
    setBusy(true);
    setError(null);
    try {
      const updated = await endpoints.updateConversation(conversationId, changes);
      if (alive.current && updated) apply(updated);
    } catch (err) {
      if (alive.current) setError(errorMessage(err, t));
    } finally {
      if (alive.current) setBusy(false);
    }
  }

  function onSent(message: Message) {
    stickToBottom.current = true;
    setMessages((old) => [...(old ?? []).filter((m) => m.id !== message.id), message]);
    if (conversation && message.direction !== "note") {
      onConversationRef.current({ ...conversation, last_message_preview: message.text || conversation.last_message_preview, last_message_at: message.created_at });
    }
  }

  if (!conversation) {
    return (
      <section className="thread" data-testid="thread">
        {error ? (
          <Alert kind="error" testId="thread-error">
            {error}
          </Alert>
        ) : (
          <Spinner />
        )}
      </section>
    );
  }

  const assigneeKnown = conversation.assignee_id === null || members.some((m) => m.user_id === conversation.assignee_id);

  return (
    <section className="thread" data-testid="thread" aria-label={contactLabel(conversation)}>
      <header className="thread-head">
        <button type="button" className="btn-icon inbox-back" aria-label={t("inbox.back")} data-testid="inbox-back" onClick={onBack}>
          <Icon name="back" />
        </button>
        <button type="button" className="thread-title" onClick={onShowContact} data-testid="contact-toggle" title={t("inbox.customer")}>
          <span className="thread-name">{contactLabel(conversation)}</span>
          <span className="thread-sub">
            {conversation.contact.name && conversation.contact.phone ? <span>{conversation.contact.phone}</span> : null}
            <WindowLabel conversation={conversation} />
          </span>
        </button>
        <div className="thread-actions">
          <label className="visually-hidden" htmlFor="assign-select">
            {t("inbox.assignee")}
          </label>
          <select
            id="assign-select"
            data-testid="assign-select"
            value={conversation.assignee_id === null ? "" : String(conversation.assignee_id)}
            disabled={busy}
            onChange={(e) => void update({ assignee_id: e.target.value === "" ? null : Number(e.target.value) })}
          >
            <option value="">{t("inbox.unassigned")}</option>
            {!assigneeKnown ? <option value={String(conversation.assignee_id)}>{conversation.assignee_name ?? `#${conversation.assignee_id}`}</option> : null}
            {members.map((m) => (
              <option key={m.id} value={String(m.user_id)}>
                {m.name || m.email}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-primary btn-sm" data-testid="inbox-create-order" onClick={() => setOrdering(true)}>
            <Icon name="orders" />
            {t("orders.create")}
          </button>
          {conversation.status === "open" ? (
            <button type="button" className="btn btn-secondary btn-sm" disabled={busy} data-testid="close-conversation" onClick={() => void update({ status: "closed" })}>
              <Icon name="check" />
              {t("inbox.close")}
            </button>
          ) : (
            <button type="button" className="btn btn-secondary btn-sm" disabled={busy} data-testid="reopen-conversation" onClick={() => void update({ status: "open" })}>
              {t("inbox.reopen")}
            </button>
          )}
        </div>
      </header>
      {error ? (
        <Alert kind="error" testId="thread-error">
          {error}
        </Alert>
      ) : null}
      {orderNotice ? (
        <Alert kind="success" testId="inbox-order-created">
          {orderNotice}
        </Alert>
      ) : null}
      <div
        className="thread-messages"
        ref={scroller}
        onScroll={(e) => {
          const el = e.currentTarget;
          stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
        }}
      >
        {hasMore ? (
          <div className="center">
            <button type="button" className="btn btn-ghost btn-sm" disabled={loadingOlder} data-testid="thread-load-older" onClick={() => void loadOlder()}>
              {t("inbox.loadOlder")}
            </button>
          </div>
        ) : null}
        {messages === null ? (
          <Spinner />
        ) : messages.length === 0 ? (
          <p className="muted center small">{t("inbox.noMessages")}</p>
        ) : (
          messages.map((m, i) => {
            const day = fmt.date(m.created_at);
            const showDay = i === 0 || fmt.date(messages[i - 1].created_at) !== day;
            return (
              <Fragment key={m.id}>
                {showDay ? (
                  <div className="day-separator">
                    <span>{day}</span>
                  </div>
                ) : null}
                <MessageBubble message={m} />
              </Fragment>
            );
          })
        )}
      </div>
      <ReplyBox
        key={conversation.id}
        conversation={conversation}
        quickReplies={quickReplies}
        templates={templates}
        onSent={onSent}
        onWindowClosed={() => void refresh(false)}
      />
      {ordering ? (
        <Modal title={t("orders.new")} onClose={() => setOrdering(false)} testId="order-dialog" wide>
          <OrderForm
            initialContact={{ id: conversation.contact.id, name: conversation.contact.name, phone: conversation.contact.phone }}
            conversationId={conversation.id}
            onSaved={(order) => {
              setOrdering(false);
              setOrderNotice(t("orders.createdNotice", { number: order.number || `#${order.id}`, total: formatMoney(order.total) }));
              onOrderCreated?.();
            }}
            onCancel={() => setOrdering(false)}
          />
        </Modal>
      ) : null}
    </section>
  );
}
