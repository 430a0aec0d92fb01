import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Conversation, Message } from "../../api";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import { mergeMessages } from "./Thread";
import { filterQuickReplies, slashQuery } from "./ReplyBox";
import { fillTemplate } from "./TemplatePicker";

const HOUR = 3600_000;

function conversation(id: number, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    status: "open",
    assignee_id: null,
    assignee_name: null,
    unread_count: 0,
    last_message_at: new Date(Date.now() - 5 * 60_000).toISOString(),
    last_message_preview: "Halo kak",
    window_open: true,
    window_expires_at: new Date(Date.now() + 5 * HOUR + 30 * 60_000).toISOString(),
    contact: {
      id: id * 10,
      name: `Customer ${id}`,
      phone: `+62812000${id}`,
      wa_id: `62812000${id}`,
      email: `c${id}@example.com`,
      source: "whatsapp",
      marketing_opt_out: false,
      created_at: "2024-01-15T17:30:00Z",
    },
    ...extra,
  };
}

function message(id: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    direction: "out",
    type: "text",
    text: `Message ${id}`,
    status: "sent",
    error_code: null,
    error_reason: "",
    automated: false,
    author_id: 1,
    author_name: "Sari Dewi",
    created_at: "2024-05-01T03:00:00Z",
    payload: {},
    ...extra,
  };
}

const CONV1 = conversation(1, { unread_count: 2, assignee_id: 2, assignee_name: "Budi" });
const CONV2 = conversation(2, { unread_count: 3, window_open: false, window_expires_at: null, contact: { ...conversation(2).contact, name: "", phone: "+628120002" } });

const MESSAGES: Message[] = [
  message(100, { direction: "in", status: "received", text: "Berapa ongkirnya?", author_id: null, author_name: null }),
  message(101, { status: "pending" }),
  message(102, { status: "accepted" }),
  message(103, { status: "sent" }),
  message(104, { status: "delivered" }),
  message(105, { status: "read", automated: true, author_name: null }),
  message(106, { status: "failed", error_code: 131047, error_reason: "Customer has not written for 24 hours: use a template." }),
  message(107, { direction: "note", type: "note", status: "sent", text: "Cek stok dulu" }),
];

const MEMBERS = [
  { id: 10, user_id: 1, name: "Sari Dewi", email: "sari@example.com", role: "owner", joined_at: "2024-01-15T17:30:00Z" },
  { id: 11, user_id: 2, name: "Budi", email: "budi@example.com", role: "agent", joined_at: "2024-02-01T03:00:00Z" },
];

const TEMPLATES = [
  { id: 7, name: "order_update", language: "id", category: "UTILITY", status: "APPROVED", body_text: "Halo {{1}}, pesanan {{2}} sudah dikirim.", parameter_count: 2 },
  { id: 8, name: "promo_draft", language: "id", category: "MARKETING", status: "PENDING", body_text: "Promo!", parameter_count: 0 },
];

const QUICK_REPLIES = [
  { id: 1, shortcut: "ongkir", text: "Ongkir ke Jawa Rp10.000." },
  { id: 2, shortcut: "rekening", text: "BCA 123456 a.n. Toko Sari" },
];

function inboxRoutes(extra: Record<string, unknown> = {}) {
  return {
    "GET /api/auth/session/": { body: sessionBody("owner") },
    "GET /api/inbox/conversations/": { body: { results: [CONV1, CONV2], next_before: null } },
    "GET /api/inbox/conversations/1/": { body: CONV1 },
    "GET /api/inbox/conversations/2/": { body: CONV2 },
    "GET /api/inbox/conversations/1/messages/": { body: { results: MESSAGES, has_more: false } },
    "GET /api/inbox/conversations/2/messages/": { body: { results: [message(200, { direction: "in", status: "received", text: "Halo?" })], has_more: false } },
    "POST /api/inbox/conversations/1/read/": { status: 204 },
    "POST /api/inbox/conversations/2/read/": { status: 204 },
    "GET /api/team/members/": { body: MEMBERS },
    "GET /api/whatsapp/templates/": { body: TEMPLATES },
    "GET /api/whatsapp/quick-replies/": { body: QUICK_REPLIES },
    ...extra,
  } as Parameters<typeof mockFetch>[0];
}

/** A controllable stand-in for the browser's EventSource. */
class FakeEventSource {
  static instances: FakeEventSource[] = [];
  readyState = 1;
  url: string;
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  private listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  constructor(url: string) {
    this.url = url;
    FakeEventSource.instances.push(this);
  }
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.readyState = 2;
  }
  emit(type: string, data: unknown) {
    for (const fn of this.listeners.get(type) ?? []) fn(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

describe("Inbox", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
    FakeEventSource.instances = [];
  });

  it("lists conversations with unread counts, a nav badge total and an empty thread state", async () => {
    const { calls } = mockFetch(inboxRoutes());
    renderApp(shopConfig({ locale: "en" }), "/inbox");

    const row1 = await screen.findByTestId("conversation-row-1");
    expect(row1).toHaveAttribute("data-unread", "2");
    expect(row1).toHaveTextContent("Customer 1");
    expect(row1).toHaveTextContent("Halo kak");
    expect(row1).toHaveTextContent("Budi");
    expect(row1).toHaveTextContent("5 min ago");
    // No name: the phone number is shown instead.
    expect(screen.getByTestId("conversation-row-2")).toHaveTextContent("+628120002");
    expect(screen.getByTestId("conversation-row-2")).toHaveTextContent("Unassigned");
    expect(await screen.findByTestId("nav-inbox-badge")).toHaveTextContent("5");
    expect(screen.getByText("Select a conversation")).toBeInTheDocument();
    expect(calls.some((c) => c.url === "/api/inbox/conversations/?view=all&status=open")).toBe(true);
  });

  it("filter tabs, the status switch and the search box change the query", async () => {
    const { calls } = mockFetch(inboxRoutes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox");
    await screen.findByTestId("conversation-row-1");

    await user.click(screen.getByTestId("conversation-filter-mine"));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/inbox/conversations/?view=mine&status=open")).toBe(true));
    await user.click(screen.getByTestId("conversation-status-closed"));
    await waitFor(() => expect(calls.some((c) => c.url === "/api/inbox/conversations/?view=mine&status=closed")).toBe(true));
    await user.type(screen.getByTestId("conversation-search"), "budi");
    await waitFor(() => expect(calls.some((c) => c.url === "/api/inbox/conversations/?view=mine&status=closed&q=budi")).toBe(true));
  });

  it("shows an empty state when there are no conversations", async () => {
    mockFetch(inboxRoutes({ "GET /api/inbox/conversations/": { body: { results: [], next_before: null } } }));
    renderApp(shopConfig({ locale: "en" }), "/inbox");
    expect(await screen.findByText("No conversations yet")).toBeInTheDocument();
    expect(screen.queryByTestId("nav-inbox-badge")).not.toBeInTheDocument();
  });

  it("opening a conversation marks it read and shows bubbles, ticks, errors, notes and the contact card", async () => {
    const { calls } = mockFetch(inboxRoutes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox");
    await user.click(await screen.findByTestId("conversation-row-1"));

    expect(screen.getByTestId("location")).toHaveTextContent("/inbox/1");
    const thread = await screen.findByTestId("thread");
    expect(await within(thread).findByTestId("message-100")).toHaveAttribute("data-direction", "in");
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url === "/api/inbox/conversations/1/read/")).toBe(true));
    await waitFor(() => expect(screen.getByTestId("conversation-row-1")).toHaveAttribute("data-unread", "0"));

    // Ticks by status.
    expect(screen.getByTestId("message-101")).toHaveAttribute("data-status", "pending");
    expect(screen.getByTestId("message-ticks-101")).toHaveAccessibleName("Pending");
    expect(screen.getByTestId("message-ticks-101").querySelector("svg")).not.toBeNull(); // clock
    expect(screen.getByTestId("message-ticks-102").querySelector("svg")).not.toBeNull();
    expect(screen.getByTestId("message-ticks-103")).toHaveTextContent(/^✓$/);
    expect(screen.getByTestId("message-ticks-104")).toHaveTextContent(/^✓✓$/);
    expect(screen.getByTestId("message-ticks-104")).toHaveClass("ticks-delivered");
    expect(screen.getByTestId("message-ticks-105")).toHaveTextContent(/^✓✓$/);
    expect(screen.getByTestId("message-ticks-105")).toHaveClass("ticks-read");
    expect(screen.queryByTestId("message-ticks-100")).not.toBeInTheDocument(); // inbound: no ticks

    // Automated reply and failed message.
    expect(screen.getByTestId("message-105")).toHaveTextContent("Automatic");
    expect(screen.getByTestId("message-106")).toHaveAttribute("data-status", "failed");
    expect(screen.getByTestId("message-error-106")).toHaveTextContent("Customer has not written for 24 hours: use a template.");
    expect(screen.queryByTestId("message-error-105")).not.toBeInTheDocument();

    // Note is distinct.
    expect(screen.getByTestId("message-107")).toHaveAttribute("data-direction", "note");
    expect(screen.getByTestId("message-107")).toHaveTextContent("Internal note");

    // Times in the shop's zone: 03:00Z is 10:00 in Jakarta.
    expect(screen.getByTestId("message-100")).toHaveTextContent("10:00");

    // Window countdown and contact card.
    expect(screen.getByTestId("window-countdown")).toHaveTextContent(/Can reply for 5 h (29|30) min/);
    const card = screen.getByTestId("contact-card");
    expect(card).toHaveTextContent("Customer 1");
    expect(card).toHaveTextContent("+628120001");
    expect(card).toHaveTextContent("c1@example.com");
    expect(card).toHaveTextContent("whatsapp");
    expect(card).toHaveTextContent("Allowed");
    expect(card).toHaveTextContent("16 Jan 2024");
  });

  it("Enter sends a reply, Shift+Enter adds a newline", async () => {
    const sent = message(300, { status: "pending", text: "Siap kak\nDitunggu" });
    const { calls } = mockFetch(inboxRoutes({ "POST /api/inbox/conversations/1/messages/": { status: 201, body: sent } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    const box = await screen.findByTestId("reply-text");
    await user.type(box, "Siap kak{Shift>}{Enter}{/Shift}Ditunggu");
    expect(box).toHaveValue("Siap kak\nDitunggu");
    await user.keyboard("{Enter}");
    expect(await screen.findByTestId("message-300")).toHaveAttribute("data-status", "pending");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/inbox/conversations/1/messages/")?.body).toEqual({ text: "Siap kak\nDitunggu" });
    expect(box).toHaveValue("");
  });

  it("typing /ong opens the quick-reply picker and choosing inserts the text", async () => {
    mockFetch(inboxRoutes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    const box = await screen.findByTestId("reply-text");
    await waitFor(() => expect(screen.queryByTestId("thread")).toBeInTheDocument());

    await user.type(box, "Kak, /ong");
    const picker = await screen.findByTestId("quick-reply-picker");
    expect(within(picker).getByTestId("quick-reply-option-ongkir")).toBeInTheDocument();
    expect(within(picker).queryByTestId("quick-reply-option-rekening")).not.toBeInTheDocument();

    await user.click(within(picker).getByTestId("quick-reply-option-ongkir"));
    expect(box).toHaveValue("Kak, Ongkir ke Jawa Rp10.000.");
    expect(screen.queryByTestId("quick-reply-picker")).not.toBeInTheDocument();

    // Keyboard: Enter picks the highlighted option instead of sending.
    await user.clear(box);
    await user.type(box, "/rek{Enter}");
    expect(box).toHaveValue("BCA 123456 a.n. Toko Sari");
  });

  it("the internal note toggle posts to notes/", async () => {
    const note = message(301, { direction: "note", type: "note", text: "VIP customer" });
    const { calls } = mockFetch(inboxRoutes({ "POST /api/inbox/conversations/1/notes/": { status: 201, body: note } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    await screen.findByTestId("reply-text");
    await user.click(screen.getByTestId("note-toggle"));
    expect(screen.getByTestId("note-toggle")).toHaveAttribute("aria-pressed", "true");
    await user.type(screen.getByTestId("reply-text"), "VIP customer");
    await user.click(screen.getByTestId("reply-send"));
    expect(await screen.findByTestId("message-301")).toHaveAttribute("data-direction", "note");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/inbox/conversations/1/notes/")?.body).toEqual({ text: "VIP customer" });
    expect(calls.some((c) => c.method === "POST" && c.url === "/api/inbox/conversations/1/messages/")).toBe(false);
  });

  it("when the 24-hour window is closed, the reply box is locked and a template is sent with its parameters", async () => {
    const sent = message(400, { type: "template", text: "Halo Rina, pesanan INV-9 sudah dikirim.", status: "pending" });
    const { calls } = mockFetch(inboxRoutes({ "POST /api/inbox/conversations/2/template/": { status: 201, body: sent } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/2");

    expect(await screen.findByTestId("window-locked")).toHaveTextContent("More than 24 hours since the customer wrote: use a template");
    expect(screen.queryByTestId("reply-text")).not.toBeInTheDocument();
    const select = screen.getByTestId("template-select");
    // Unapproved templates cannot be picked.
    expect(within(select).getByRole("option", { name: /promo_draft/ })).toBeDisabled();

    await user.selectOptions(select, "7");
    expect(screen.getByTestId("template-preview")).toHaveTextContent("Halo {{1}}, pesanan {{2}} sudah dikirim.");
    await user.type(screen.getByTestId("template-param-1"), "Rina");
    await user.type(screen.getByTestId("template-param-2"), "INV-9");
    expect(screen.getByTestId("template-preview")).toHaveTextContent("Halo Rina, pesanan INV-9 sudah dikirim.");
    await user.click(screen.getByTestId("template-send"));

    expect(await screen.findByTestId("message-400")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/inbox/conversations/2/template/")?.body).toEqual({ template_id: 7, parameters: ["Rina", "INV-9"] });
    // Notes are still possible while locked.
    await user.click(screen.getByTestId("note-toggle"));
    expect(screen.getByTestId("reply-text")).toBeInTheDocument();
    expect(screen.queryByTestId("window-locked")).not.toBeInTheDocument();
  });

  it("shows template parameter errors from the server", async () => {
    mockFetch(inboxRoutes({ "POST /api/inbox/conversations/2/template/": { status: 400, body: { parameters: ["Expected 2 parameters."] } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/2");
    await user.selectOptions(await screen.findByTestId("template-select"), "7");
    await user.click(screen.getByTestId("template-send"));
    expect(await screen.findByTestId("template-params-error")).toHaveTextContent("Expected 2 parameters.");
  });

  it("a window_closed answer to a reply shows the reason and refetches the conversation", async () => {
    let closed = false;
    const { calls } = mockFetch(
      inboxRoutes({
        "GET /api/inbox/conversations/1/": () => ({ body: closed ? { ...CONV1, window_open: false } : CONV1 }),
        "POST /api/inbox/conversations/1/messages/": () => {
          closed = true;
          return { status: 400, body: { detail: "More than 24 hours since the customer wrote: use a template.", code: "window_closed" } };
        },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    await user.type(await screen.findByTestId("reply-text"), "Halo{Enter}");
    expect(await screen.findByTestId("window-locked")).toBeInTheDocument();
    expect(calls.filter((c) => c.url === "/api/inbox/conversations/1/").length).toBeGreaterThanOrEqual(2);
  });

  it("assigns with the member's user id and closes the conversation", async () => {
    const { calls } = mockFetch(
      inboxRoutes({
        "PATCH /api/inbox/conversations/1/": (call: { body: unknown }) => {
          const body = call.body as { assignee_id?: number | null; status?: string };
          if (body.assignee_id === 1) return { body: { ...CONV1, assignee_id: 1, assignee_name: "Sari Dewi" } };
          if (body.status === "closed") return { body: { ...CONV1, assignee_id: 1, assignee_name: "Sari Dewi", status: "closed" } };
          return { status: 400, body: { assignee_id: ["Not a team member."] } };
        },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    const select = await screen.findByTestId("assign-select");
    await waitFor(() => expect(within(select).getAllByRole("option").map((o) => o.textContent)).toEqual(["Unassigned", "Sari Dewi", "Budi"]));
    expect(select).toHaveValue("2");

    await user.selectOptions(select, "1");
    await waitFor(() => expect(select).toHaveValue("1"));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ assignee_id: 1 });
    expect(screen.getByTestId("conversation-row-1")).toHaveTextContent("Sari Dewi");

    await user.selectOptions(select, "");
    expect(await screen.findByTestId("thread-error")).toHaveTextContent("Not a team member.");

    await user.click(screen.getByTestId("close-conversation"));
    expect(await screen.findByTestId("reopen-conversation")).toBeInTheDocument();
  });

  it("a message.created event (EventSource) refetches the list and the open thread, and marks read again", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    let extra: Message[] = [];
    const { calls } = mockFetch(
      inboxRoutes({
        "GET /api/inbox/conversations/1/messages/": () => ({ body: { results: [...MESSAGES, ...extra], has_more: false } }),
      }),
    );
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    await screen.findByTestId("message-107");
    expect(FakeEventSource.instances).toHaveLength(1);
    expect(FakeEventSource.instances[0].url).toBe("/api/inbox/stream/");
    await waitFor(() => expect(calls.filter((c) => c.url.endsWith("/1/read/")).length).toBe(1));

    const count = (url: string) => calls.filter((c) => c.method === "GET" && c.url.startsWith(url)).length;
    const listBefore = count("/api/inbox/conversations/?");
    const threadBefore = count("/api/inbox/conversations/1/messages/");

    extra = [message(500, { direction: "in", status: "received", text: "Masih ada stok?" })];
    act(() => {
      // Two events in a row are debounced into one refetch.
      FakeEventSource.instances[0].emit("message.created", { conversation_id: 1, message_id: 500 });
      FakeEventSource.instances[0].emit("conversation.updated", { conversation_id: 1 });
    });

    expect(await screen.findByTestId("message-500")).toHaveTextContent("Masih ada stok?");
    expect(count("/api/inbox/conversations/1/messages/")).toBe(threadBefore + 1);
    expect(count("/api/inbox/conversations/?")).toBeGreaterThan(listBefore);
    await waitFor(() => expect(calls.filter((c) => c.url.endsWith("/1/read/")).length).toBe(2));

    // An event for another conversation refetches the list but not this thread.
    act(() => FakeEventSource.instances[0].emit("message.updated", { conversation_id: 2, message_id: 9, status: "read" }));
    await act(async () => {
      await new Promise((r) => setTimeout(r, 300));
    });
    expect(count("/api/inbox/conversations/1/messages/")).toBe(threadBefore + 1);
  });

  it("falls back to polling every 5 s without EventSource", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { calls } = mockFetch(inboxRoutes());
    renderApp(shopConfig({ locale: "en" }), "/inbox");
    await screen.findByTestId("conversation-row-1");
    const before = calls.filter((c) => c.url.startsWith("/api/inbox/conversations/?")).length;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5200);
    });
    await waitFor(() => expect(calls.filter((c) => c.url.startsWith("/api/inbox/conversations/?")).length).toBeGreaterThan(before));
  });

  it("on a phone the thread has a back button to the list", async () => {
    mockFetch(inboxRoutes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/inbox/1");
    await user.click(await screen.findByTestId("inbox-back"));
    expect(screen.getByTestId("location")).toHaveTextContent(/^\/inbox$/);
    expect(screen.queryByTestId("thread")).not.toBeInTheDocument();
  });

  it("is in Indonesian by default", async () => {
    mockFetch(inboxRoutes());
    renderApp(shopConfig(), "/inbox/2");
    expect(await screen.findByTestId("window-locked")).toHaveTextContent("Lebih dari 24 jam sejak pelanggan menulis: gunakan template");
    expect(screen.getByTestId("conversation-filter-mine")).toHaveTextContent("Milik saya");
  });
});

describe("inbox helpers", () => {
  it("fillTemplate substitutes numbered placeholders and keeps empty ones", () => {
    expect(fillTemplate("Hi {{1}}, order {{2}} / {{ 1 }}", ["Rina", ""])).toBe("Hi Rina, order {{2}} / Rina");
  });

  it("slashQuery finds a /shortcut before the caret, only at a word start", () => {
    expect(slashQuery("/ong", 4)).toEqual({ start: 0, query: "ong" });
    expect(slashQuery("kak /", 5)).toEqual({ start: 4, query: "" });
    expect(slashQuery("http://x", 8)).toBeNull();
    expect(slashQuery("/ong kir", 8)).toBeNull();
  });

  it("filterQuickReplies prefers prefix matches", () => {
    const items = [
      { id: 1, shortcut: "harga-ongkir", text: "a" },
      { id: 2, shortcut: "ongkir", text: "b" },
    ];
    expect(filterQuickReplies(items, "ong").map((i) => i.shortcut)).toEqual(["ongkir", "harga-ongkir"]);
  });

  it("mergeMessages keeps older loaded pages and replaces the newest page", () => {
    const old = [message(1), message(2), message(3, { status: "sent" })];
    const latest = [message(3, { status: "read" }), message(4)];
    expect(mergeMessages(old, latest).map((m) => `${m.id}:${m.status}`)).toEqual(["1:sent", "2:sent", "3:read", "4:sent"]);
  });
});
