import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

/**
 * Live inbox updates: one EventSource on /api/inbox/stream/ per dashboard, shared by every subscriber.
 * When EventSource is missing (jsdom, old browsers) or the stream is closed for good, falls back to
 * emitting a "poll" event every 5 s, on which subscribers simply refetch what they show.
 */

export const STREAM_URL = "/api/inbox/stream/";
export const POLL_INTERVAL_MS = 5000;
export const LIVE_DEBOUNCE_MS = 150;
export const LIVE_EVENT_TYPES = ["message.created", "message.updated", "conversation.updated"] as const;

/**
 * Broadcast progress (about once a second while a broadcast sends) goes to its own listeners, so the
 * inbox subscribers above do not refetch on every tick.
 */
export const BROADCAST_PROGRESS_EVENT = "broadcast.progress";

/** "local" = emitted by this tab itself (e.g. after marking a conversation read), never by the server. */
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number] | "poll" | "local";

export interface LiveEvent {
  type: LiveEventType;
  /** null for "poll" (anything may have changed). */
  conversation_id: number | null;
  message_id?: number;
  status?: string;
}

type Listener = (event: LiveEvent) => void;
/** The event's JSON data as sent by the server. */
type ProgressListener = (data: Record<string, unknown>) => void;

interface LiveValue {
  subscribe: (listener: Listener) => () => void;
  emit: (event: LiveEvent) => void;
  subscribeProgress: (listener: ProgressListener) => () => void;
  emitProgress: (data: Record<string, unknown>) => void;
  mode: "stream" | "polling";
}

const LiveContext = createContext<LiveValue | null>(null);

function hasEventSource(): boolean {
  return typeof window !== "undefined" && typeof (window as { EventSource?: unknown }).EventSource === "function";
}

function parseData(raw: unknown): Record<string, unknown> | null {
  if (typeof raw !== "string" || !raw) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function parseEvent(type: LiveEventType, raw: unknown): LiveEvent {
  // A malformed payload is treated as "something changed".
  const data = parseData(raw) ?? {};
  const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "string" && v !== "" && !Number.isNaN(Number(v)) ? Number(v) : undefined);
  return {
    type,
    conversation_id: num(data.conversation_id) ?? null,
    message_id: num(data.message_id),
    status: typeof data.status === "string" ? data.status : undefined,
  };
}

export function LiveProvider({ children }: { children?: ReactNode }) {
  const listeners = useRef(new Set<Listener>());
  const progressListeners = useRef(new Set<ProgressListener>());
  const [mode, setMode] = useState<"stream" | "polling">(() => (hasEventSource() ? "stream" : "polling"));
  const [value] = useState<Omit<LiveValue, "mode">>(() => ({
    emit: (event) =>
      listeners.current.forEach((l) => {
        try {
          l(event);
        } catch {
          /* a broken subscriber must not stop the others */
        }
      }),
    subscribe: (listener) => {
      listeners.current.add(listener);
      return () => {
        listeners.current.delete(listener);
      };
    },
    emitProgress: (data) =>
      progressListeners.current.forEach((l) => {
        try {
          l(data);
        } catch {
          /* a broken subscriber must not stop the others */
        }
      }),
    subscribeProgress: (listener) => {
      progressListeners.current.add(listener);
      return () => {
        progressListeners.current.delete(listener);
      };
    },
  }));

  useEffect(() => {
    const emit = value.emit;
    if (mode === "stream") {
      let source: EventSource;
      try {
        source = new EventSource(STREAM_URL, { withCredentials: true });
      } catch {
        setMode("polling");
        return;
      }
      for (const type of LIVE_EVENT_TYPES) {
        source.addEventListener(type, (e) => emit(parseEvent(type, (e as MessageEvent).data)));
      }
      source.addEventListener(BROADCAST_PROGRESS_EVENT, (e) => {
        const data = parseData((e as MessageEvent).data);
        if (data) value.emitProgress(data);
      });
      source.onopen = () => {
        // The server subscribes before it answers, so from here on nothing is missed; what happened
        // before (since the page loaded, or while reconnecting) is picked up by one refetch.
        emit({ type: "poll", conversation_id: null });
      };
      source.onerror = () => {
        // readyState 2 = CLOSED: the browser gave up (e.g. non-200 answer) → poll instead.
        if (source.readyState === 2) {
          source.close();
          setMode("polling");
        }
      };
      return () => source.close();
    }

    const timer = window.setInterval(() => emit({ type: "poll", conversation_id: null }), POLL_INTERVAL_MS);
    return () => window.clearInterval(timer);
  }, [mode, value]);

  const ctx = useMemo(() => ({ ...value, mode }), [value, mode]);
  return <LiveContext.Provider value={ctx}>{children}</LiveContext.Provider>;
}

/**
 * Calls `onBatch` with the events received in the last ~150 ms (debounced).
 * No-op outside a LiveProvider.
 */
export function useLiveEvents(onBatch: (events: LiveEvent[]) => void, delay = LIVE_DEBOUNCE_MS): void {
  const ctx = useContext(LiveContext);
  const handler = useRef(onBatch);
  handler.current = onBatch;

  useEffect(() => {
    if (!ctx) return;
    let pending: LiveEvent[] = [];
    let timer: number | undefined;
    const unsubscribe = ctx.subscribe((event) => {
      pending.push(event);
      window.clearTimeout(timer);
      timer = window.setTimeout(() => {
        const batch = pending;
        pending = [];
        handler.current(batch);
      }, delay);
    });
    return () => {
      unsubscribe();
      window.clearTimeout(timer);
    };
  }, [ctx, delay]);
}

/**
 * Calls `onProgress` with the data of every "broadcast.progress" event, undebounced (each one is a
 * full snapshot). No-op outside a LiveProvider or without a stream.
 */
export function useBroadcastProgress(onProgress: ProgressListener): void {
  const ctx = useContext(LiveContext);
  const handler = useRef(onProgress);
  handler.current = onProgress;
  useEffect(() => {
    if (!ctx) return;
    return ctx.subscribeProgress((data) => handler.current(data));
  }, [ctx]);
}

/** True when the batch may concern `conversationId` (a poll concerns everything). */
export function affects(events: LiveEvent[], conversationId: number | null): boolean {
  return events.some((e) => e.type !== "local" && (e.type === "poll" || e.conversation_id === null || e.conversation_id === conversationId));
}

/** Emits an event to this tab's subscribers only (no-op outside a LiveProvider). */
export function useLiveEmit(): (event: LiveEvent) => void {
  const ctx = useContext(LiveContext);
  return ctx ? ctx.emit : noop;
}

function noop() {}

/** Events that came from the server (or the poll timer), not from this tab. */
export function remote(events: LiveEvent[]): LiveEvent[] {
  return events.filter((e) => e.type !== "local");
}
