import type { Message, MessageStatus } from "../../api";
import { Icon } from "../../components/Icon";
import { useI18n, type TKey } from "../../i18n";
import { useFormatters } from "../../session";

const STATUS_KEYS: Record<MessageStatus, TKey> = {
  received: "inbox.status.received",
  pending: "inbox.status.pending",
  accepted: "inbox.status.pending",
  sent: "inbox.status.sent",
  delivered: "inbox.status.delivered",
  read: "inbox.status.read",
  failed: "inbox.status.failed",
};

const TYPE_KEYS: Record<string, TKey> = {
  image: "inbox.type.image",
  document: "inbox.type.document",
  location: "inbox.type.location",
  reaction: "inbox.type.reaction",
  audio: "inbox.type.audio",
  video: "inbox.type.video",
  sticker: "inbox.type.sticker",
  template: "inbox.type.template",
};

/** ✓ sent, ✓✓ delivered, blue ✓✓ read, a clock while pending/accepted, "!" when failed. */
export function Ticks({ message }: { message: Message }) {
  const { t } = useI18n();
  if (message.direction !== "out") return null;
  const label = t(STATUS_KEYS[message.status] ?? "inbox.status.sent");
  const common = { "aria-label": label, title: label, "data-testid": `message-ticks-${message.id}`, role: "img" as const };
  switch (message.status) {
    case "pending":
    case "accepted":
      return (
        <span className="ticks ticks-pending" {...common}>
          <Icon name="clock" className="icon icon-xs" />
        </span>
      );
    case "sent":
      return (
        <span className="ticks ticks-sent" {...common}>
          ✓
        </span>
      );
    case "delivered":
      return (
        <span className="ticks ticks-delivered" {...common}>
          ✓✓
        </span>
      );
    case "read":
      return (
        <span className="ticks ticks-read" {...common}>
          ✓✓
        </span>
      );
    case "failed":
      return (
        <span className="ticks ticks-failed" {...common}>
          !
        </span>
      );
    default:
      return null;
  }
}

function payloadString(payload: Record<string, unknown> | null | undefined, key: string): string | null {
  const value = payload?.[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : null;
}

const MEDIA_TYPES = new Set(["image", "sticker", "document", "audio", "video"]);

function Body({ message }: { message: Message }) {
  const { t } = useI18n();
  const typeKey = TYPE_KEYS[message.type];
  if (message.type === "location") {
    // The payload is WhatsApp's message object: its coordinates sit under `location`.
    const place = (message.payload?.location ?? message.payload) as Record<string, unknown> | undefined;
    const lat = payloadString(place, "latitude");
    const lng = payloadString(place, "longitude");
    return (
      <div className="msg-text">
        <span className="msg-type">📍 {t("inbox.type.location")}</span>
        {message.text ? <div>{message.text}</div> : null}
        {lat && lng ? (
          <a href={`https://www.google.com/maps?q=${encodeURIComponent(lat)},${encodeURIComponent(lng)}`} target="_blank" rel="noreferrer">
            {t("inbox.openMap")}
          </a>
        ) : null}
      </div>
    );
  }
  const mediaUrl = message.direction === "in" && MEDIA_TYPES.has(message.type) ? `/api/inbox/messages/${message.id}/media/` : null;
  if (mediaUrl && (message.type === "image" || message.type === "sticker")) {
    return (
      <div className="msg-text">
        <a href={mediaUrl} target="_blank" rel="noreferrer">
          <img src={mediaUrl} alt={message.text || t(typeKey ?? "inbox.type.image")} className="msg-image" loading="lazy" data-testid={`message-media-${message.id}`} />
        </a>
        {message.text ? <div>{message.text}</div> : null}
      </div>
    );
  }
  return (
    <div className="msg-text">
      {mediaUrl ? (
        <a href={mediaUrl} target="_blank" rel="noreferrer" className="msg-type" data-testid={`message-media-${message.id}`}>
          📎 {t(typeKey ?? "inbox.type.document")}
        </a>
      ) : null}
      {typeKey && message.type !== "template" && !mediaUrl ? <span className="msg-type">[{t(typeKey)}]</span> : null}
      {message.text ? <span>{message.text}</span> : !typeKey ? <span className="muted">[{message.type}]</span> : null}
    </div>
  );
}

export function MessageBubble({ message }: { message: Message }) {
  const { t } = useI18n();
  const fmt = useFormatters();
  const failed = message.status === "failed";
  return (
    <div className={`msg-row msg-row-${message.direction}`}>
      <div
        className={`msg msg-${message.direction}${failed ? " msg-failed" : ""}`}
        data-testid={`message-${message.id}`}
        data-direction={message.direction}
        data-status={message.status}
      >
        {message.direction === "note" ? (
          <div className="msg-author">
            {t("inbox.noteLabel")}
            {message.author_name ? ` · ${message.author_name}` : ""}
          </div>
        ) : message.direction === "out" && message.author_name && !message.automated ? (
          <div className="msg-author">{message.author_name}</div>
        ) : null}
        {message.type === "template" ? <div className="msg-type small">{t("inbox.type.template")}</div> : null}
        <Body message={message} />
        <div className="msg-meta">
          {message.automated ? (
            <span className="badge badge-auto" data-testid={`message-automated-${message.id}`}>
              {t("inbox.automated")}
            </span>
          ) : null}
          <time dateTime={message.created_at} title={fmt.dateTime(message.created_at)}>
            {fmt.time(message.created_at)}
          </time>
          <Ticks message={message} />
        </div>
      </div>
      {failed ? (
        <div className="msg-error" role="alert" data-testid={`message-error-${message.id}`}>
          {message.error_reason || t("inbox.failedGeneric")}
        </div>
      ) : null}
    </div>
  );
}
