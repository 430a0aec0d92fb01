import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Role } from "../../config";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import { toShortcut } from "./QuickRepliesPage";

const ACCOUNT = {
  connected: true,
  phone_number_id: "1234567890",
  waba_id: "555",
  display_phone_number: "+62 812 0000 1111",
  verified_name: "Toko Sari",
  quality_rating: "GREEN",
  throughput_level: "STANDARD",
  status: "connected",
  last_error_code: null,
  last_error_reason: "",
  last_checked_at: "2024-05-01T03:00:00Z",
  verify_token: "verify-abc",
  webhook_url: "https://sari.warung.test/api/whatsapp/webhook/",
};

const TEMPLATES = [{ id: 7, name: "order_update", language: "id", category: "UTILITY", status: "APPROVED", body_text: "Halo {{1}}", parameter_count: 1 }];

function base(role: Role = "owner", extra: Record<string, unknown> = {}) {
  return {
    "GET /api/auth/session/": { body: sessionBody(role) },
    "GET /api/whatsapp/account/": { body: ACCOUNT },
    "GET /api/whatsapp/templates/": { body: TEMPLATES },
    ...extra,
  } as Parameters<typeof mockFetch>[0];
}

describe("Settings > WhatsApp", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("never pre-fills secrets, shows the webhook data and saves with empty secrets to keep them", async () => {
    const { calls } = mockFetch(base("owner", { "PUT /api/whatsapp/account/": (c: { body: unknown }) => ({ body: { ...ACCOUNT, ...(c.body as object) } }) }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/whatsapp");

    expect(await screen.findByTestId("wa-phone-number-id")).toHaveValue("1234567890");
    expect(screen.getByTestId("wa-waba-id")).toHaveValue("555");
    expect(screen.getByTestId("wa-display-number")).toHaveValue("+62 812 0000 1111");
    expect(screen.getByTestId("wa-verify-token")).toHaveValue("verify-abc");
    expect(screen.getByTestId("wa-access-token")).toHaveValue("");
    expect(screen.getByTestId("wa-app-secret")).toHaveValue("");
    expect(screen.getByTestId("wa-access-token")).toHaveAttribute("placeholder", "•••• stored");
    expect(screen.getByTestId("wa-access-token")).toHaveAttribute("type", "password");
    expect(screen.getByTestId("wa-status")).toHaveTextContent("Connected");
    expect(screen.getByTestId("wa-status")).toHaveTextContent("GREEN");
    expect(screen.getByTestId("wa-webhook-url")).toHaveValue("https://sari.warung.test/api/whatsapp/webhook/");
    expect(screen.getByText(/WhatsApp > Configuration/)).toBeInTheDocument();
    expect(screen.getByTestId("settings-whatsapp-tab")).toBeInTheDocument();

    await user.clear(screen.getByTestId("wa-waba-id"));
    await user.type(screen.getByTestId("wa-waba-id"), "777");
    await user.click(screen.getByTestId("wa-save"));
    expect(await screen.findByTestId("wa-saved")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({
      phone_number_id: "1234567890",
      waba_id: "777",
      display_phone_number: "+62 812 0000 1111",
      access_token: "",
      app_secret: "",
      verify_token: "verify-abc",
    });
  });

  it("shows field errors from the server", async () => {
    mockFetch(base("owner", { "PUT /api/whatsapp/account/": { status: 400, body: { phone_number_id: ["This phone number is connected to another shop."] } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/whatsapp");
    await user.click(await screen.findByTestId("wa-save"));
    expect(await screen.findByTestId("wa_phone_number_id-error")).toHaveTextContent("This phone number is connected to another shop.");
  });

  it("shows a failed connection test's reason in red, and a success in green", async () => {
    let ok = false;
    mockFetch(
      base("owner", {
        "POST /api/whatsapp/account/test/": () =>
          ok
            ? { body: { ok: true, verified_name: "Toko Sari", quality_rating: "GREEN", throughput_level: "STANDARD" } }
            : { body: { ok: false, code: 190, reason: "The WhatsApp connection expired: reconnect in Settings." } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/whatsapp");
    await user.click(await screen.findByTestId("wa-test"));
    const result = await screen.findByTestId("wa-test-result");
    expect(result).toHaveTextContent("The WhatsApp connection expired: reconnect in Settings.");
    expect(result).toHaveClass("alert-error");
    expect(result).toHaveAttribute("data-ok", "false");

    ok = true;
    await user.click(screen.getByTestId("wa-test"));
    await waitFor(() => expect(screen.getByTestId("wa-test-result")).toHaveClass("alert-success"));
    expect(screen.getByTestId("wa-test-result")).toHaveTextContent("Connection works.");
  });

  it("syncs templates and lists them", async () => {
    const { calls } = mockFetch(base("owner", { "POST /api/whatsapp/templates/sync/": { body: { synced: 4 } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/whatsapp");
    expect(await within(await screen.findByTestId("templates-table")).findByText("order_update")).toBeInTheDocument();
    await user.click(screen.getByTestId("templates-sync"));
    expect(await screen.findByTestId("templates-sync-result")).toHaveTextContent("4 templates synced.");
    expect(calls.filter((c) => c.url === "/api/whatsapp/templates/").length).toBe(2);
  });

  it("shows a sync failure (502 detail)", async () => {
    mockFetch(base("owner", { "POST /api/whatsapp/templates/sync/": { status: 502, body: { detail: "Meta did not answer." } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/whatsapp");
    await user.click(await screen.findByTestId("templates-sync"));
    expect(await screen.findByTestId("templates-sync-result")).toHaveTextContent("Meta did not answer.");
  });

  it("agents see a read-only notice and no form", async () => {
    mockFetch(base("agent"));
    renderApp(shopConfig({ locale: "en" }), "/settings/whatsapp");
    expect(await screen.findByTestId("wa-readonly")).toBeInTheDocument();
    expect(screen.queryByTestId("wa-save")).not.toBeInTheDocument();
    expect(screen.queryByTestId("wa-access-token")).not.toBeInTheDocument();
    expect(screen.queryByTestId("settings-auto-replies-tab")).not.toBeInTheDocument();
    expect(screen.getByTestId("settings-quick-replies-tab")).toBeInTheDocument();
  });
});

const RULES = [
  { id: 1, name: "Salam", kind: "greeting", keywords: [], reply_text: "Halo! Selamat datang.", reply_buttons: ["Katalog"], priority: 1, cooldown_minutes: 60, active: true },
  { id: 2, name: "Ongkir", kind: "keyword", keywords: ["ongkir", "kirim"], reply_text: "Ongkir mulai Rp10.000", reply_buttons: [], priority: 5, cooldown_minutes: 0, active: true },
];
const HOURS = { weekly: { mon: [["09:00", "17:00"]], tue: [["09:00", "12:00"], ["13:00", "17:00"]] }, holidays: ["2026-12-25"], timezone: "Asia/Jakarta" };

function ruleRoutes(extra: Record<string, unknown> = {}) {
  return {
    "GET /api/auth/session/": { body: sessionBody("owner") },
    "GET /api/whatsapp/auto-replies/": { body: RULES },
    "GET /api/whatsapp/business-hours/": { body: HOURS },
    ...extra,
  } as Parameters<typeof mockFetch>[0];
}

describe("Settings > Auto-reply", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("the rule tester shows the matched rule and its reply", async () => {
    let matched = true;
    const { calls } = mockFetch(
      ruleRoutes({
        "POST /api/whatsapp/auto-replies/test/": () => ({
          body: matched ? { rule: { id: 2, name: "Ongkir", kind: "keyword" }, reply_text: "Ongkir mulai Rp10.000" } : { rule: null, reply_text: null },
        }),
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");
    await user.type(await screen.findByTestId("rule-test-text"), "berapa ongkir?");
    await user.click(screen.getByTestId("rule-test-first"));
    await user.click(screen.getByTestId("rule-test-run"));
    const result = await screen.findByTestId("rule-test-result");
    expect(result).toHaveTextContent("Matches rule Ongkir (Keyword)");
    expect(result).toHaveTextContent("Ongkir mulai Rp10.000");
    expect(calls.find((c) => c.url === "/api/whatsapp/auto-replies/test/")?.body).toEqual({ text: "berapa ongkir?", first_message: true });

    matched = false;
    await user.click(screen.getByTestId("rule-test-run"));
    await waitFor(() => expect(screen.getByTestId("rule-test-result")).toHaveTextContent("No rule matches"));
  });

  it("sends the tester's time converted from the shop's time zone to UTC", async () => {
    const { calls } = mockFetch(ruleRoutes({ "POST /api/whatsapp/auto-replies/test/": { body: { rule: null, reply_text: null } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");
    await user.type(await screen.findByTestId("rule-test-text"), "halo");
    await user.type(screen.getByTestId("rule-test-at"), "2026-01-05T20:30");
    await user.click(screen.getByTestId("rule-test-run"));
    await screen.findByTestId("rule-test-result");
    expect(calls.find((c) => c.url === "/api/whatsapp/auto-replies/test/")?.body).toEqual({ text: "halo", first_message: false, at: "2026-01-05T13:30:00.000Z" });
  });

  it("lists rules, creates one with parsed keywords/buttons, toggles and deletes", async () => {
    const created = { id: 3, name: "Alamat", kind: "keyword", keywords: ["alamat", "lokasi"], reply_text: "Jl. Melati 1", reply_buttons: ["Peta", "Jam buka"], priority: 3, cooldown_minutes: 30, active: true };
    const { calls } = mockFetch(
      ruleRoutes({
        "POST /api/whatsapp/auto-replies/": { status: 201, body: created },
        "PATCH /api/whatsapp/auto-replies/1/": { body: { ...RULES[0], active: false } },
        "DELETE /api/whatsapp/auto-replies/2/": { status: 204 },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");

    expect(await screen.findByTestId("rule-row-1")).toHaveTextContent("Greeting");
    expect(screen.getByTestId("rule-row-2")).toHaveTextContent("ongkir, kirim");

    await user.type(screen.getByTestId("rule-name"), "Alamat");
    await user.selectOptions(screen.getByTestId("rule-kind"), "keyword");
    await user.type(screen.getByTestId("rule-keywords"), "alamat, lokasi ,");
    await user.type(screen.getByTestId("rule-reply"), "Jl. Melati 1");
    await user.type(screen.getByTestId("rule-buttons"), "Peta, Jam buka");
    await user.clear(screen.getByTestId("rule-priority"));
    await user.type(screen.getByTestId("rule-priority"), "3");
    await user.clear(screen.getByTestId("rule-cooldown"));
    await user.type(screen.getByTestId("rule-cooldown"), "30");
    await user.click(screen.getByTestId("rule-save"));

    expect(await screen.findByTestId("rule-row-3")).toBeInTheDocument();
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/whatsapp/auto-replies/")?.body).toEqual({
      name: "Alamat",
      kind: "keyword",
      keywords: ["alamat", "lokasi"],
      reply_text: "Jl. Melati 1",
      reply_buttons: ["Peta", "Jam buka"],
      reply_list: {},
      priority: 3,
      cooldown_minutes: 30,
      active: true,
    });
    // Sorted by priority: 1, 3, 5.
    const rows = within(screen.getByTestId("rules-table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-testid"))).toEqual(["rule-row-1", "rule-row-3", "rule-row-2"]);

    await user.click(screen.getByTestId("rule-toggle-1"));
    await waitFor(() => expect(screen.getByTestId("rule-toggle-1")).not.toBeChecked());
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ active: false });

    vi.spyOn(window, "confirm").mockReturnValue(true);
    await user.click(screen.getByTestId("rule-delete-2"));
    await waitFor(() => expect(screen.queryByTestId("rule-row-2")).not.toBeInTheDocument());
  });

  it("validates reply buttons locally and shows server field errors", async () => {
    const { calls } = mockFetch(ruleRoutes({ "POST /api/whatsapp/auto-replies/": { status: 400, body: { reply_text: ["This field may not be blank."] } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");
    await user.type(await screen.findByTestId("rule-name"), "X");
    await user.selectOptions(screen.getByTestId("rule-kind"), "greeting");
    await user.type(screen.getByTestId("rule-buttons"), "a, b, c, d");
    await user.click(screen.getByTestId("rule-save"));
    expect(await screen.findByTestId("rule_buttons-error")).toHaveTextContent("At most 3 buttons.");
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.clear(screen.getByTestId("rule-buttons"));
    await user.type(screen.getByTestId("rule-buttons"), "this label is far too long");
    await user.click(screen.getByTestId("rule-save"));
    expect(await screen.findByTestId("rule_buttons-error")).toHaveTextContent("at most 20 characters");

    await user.clear(screen.getByTestId("rule-buttons"));
    await user.click(screen.getByTestId("rule-save"));
    expect(await screen.findByTestId("rule_reply-error")).toHaveTextContent("This field may not be blank.");
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({ kind: "greeting", keywords: [] });
  });

  it("edits business hours and holidays, then saves them", async () => {
    const { calls } = mockFetch(ruleRoutes({ "PUT /api/whatsapp/business-hours/": (c: { body: unknown }) => ({ body: { ...(c.body as object), timezone: "Asia/Jakarta" } }) }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");
    expect(await screen.findByTestId("hours-tue-1-start")).toHaveValue("13:00");
    expect(screen.getByTestId("hours-open-wed")).not.toBeChecked();

    await user.click(screen.getByTestId("hours-open-wed"));
    await user.click(screen.getByTestId("hours-open-tue"));
    await user.type(screen.getByTestId("holiday-date"), "2026-08-17");
    await user.click(screen.getByTestId("holiday-add"));
    await user.click(screen.getByTestId("hours-save"));
    expect(await screen.findByTestId("hours-result")).toHaveTextContent("Business hours saved.");
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({
      weekly: { mon: [["09:00", "17:00"]], tue: [], wed: [["09:00", "17:00"]], thu: [], fri: [], sat: [], sun: [] },
      holidays: ["2026-08-17", "2026-12-25"],
    });
  });

  it("is only for owners and admins", async () => {
    const { calls } = mockFetch({ "GET /api/auth/session/": { body: sessionBody("agent") } });
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");
    expect(await screen.findByTestId("rules-forbidden")).toBeInTheDocument();
    expect(calls.some((c) => c.url.startsWith("/api/whatsapp/auto-replies/"))).toBe(false);
  });
});

describe("Settings > Quick replies", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("lists, creates (as a slug), edits and deletes quick replies", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("agent") },
      "GET /api/whatsapp/quick-replies/": { body: [{ id: 1, shortcut: "ongkir", text: "Ongkir Rp10.000" }] },
      "POST /api/whatsapp/quick-replies/": { status: 201, body: { id: 2, shortcut: "rekening-bca", text: "BCA 123" } },
      "PATCH /api/whatsapp/quick-replies/1/": { body: { id: 1, shortcut: "ongkir", text: "Ongkir Rp12.000" } },
      "DELETE /api/whatsapp/quick-replies/2/": { status: 204 },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/quick-replies");
    expect(within(await screen.findByTestId("quick-replies-table")).getByText("/ongkir")).toBeInTheDocument();

    await user.type(screen.getByTestId("quick-reply-shortcut"), "/Rekening BCA");
    await user.type(screen.getByTestId("quick-reply-text"), "BCA 123");
    await user.click(screen.getByTestId("quick-reply-save"));
    expect(await screen.findByTestId("quick-reply-row-2")).toHaveTextContent("/rekening-bca");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ shortcut: "rekening-bca", text: "BCA 123" });

    await user.click(screen.getByTestId("quick-reply-edit-1"));
    expect(screen.getByTestId("quick-reply-shortcut")).toHaveValue("ongkir");
    await user.clear(screen.getByTestId("quick-reply-text"));
    await user.type(screen.getByTestId("quick-reply-text"), "Ongkir Rp12.000");
    await user.click(screen.getByTestId("quick-reply-save"));
    await waitFor(() => expect(screen.getByTestId("quick-reply-row-1")).toHaveTextContent("Ongkir Rp12.000"));
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ shortcut: "ongkir", text: "Ongkir Rp12.000" });

    vi.spyOn(window, "confirm").mockReturnValue(true);
    await user.click(screen.getByTestId("quick-reply-delete-2"));
    await waitFor(() => expect(screen.queryByTestId("quick-reply-row-2")).not.toBeInTheDocument());
  });

  it("shows server field errors", async () => {
    mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/whatsapp/quick-replies/": { body: [] },
      "POST /api/whatsapp/quick-replies/": { status: 400, body: { shortcut: ["Quick reply with this shortcut already exists."] } },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/quick-replies");
    await user.type(await screen.findByTestId("quick-reply-shortcut"), "ongkir");
    await user.type(screen.getByTestId("quick-reply-text"), "x");
    await user.click(screen.getByTestId("quick-reply-save"));
    expect(await screen.findByTestId("quick_shortcut-error")).toHaveTextContent("already exists");
  });

  it("toShortcut makes a slug", () => {
    expect(toShortcut(" /Ongkir Jawa! ")).toBe("ongkir-jawa");
  });
});

describe("Settings > Auto-reply list menus", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("sends a list menu instead of buttons and asks for the list's button label", async () => {
    const created = { id: 9, name: "Katalog", kind: "keyword", keywords: ["katalog"], reply_text: "Pilih kak", reply_buttons: [], reply_list: { button: "Koleksi", rows: ["Gamis", "Hijab"] }, priority: 10, cooldown_minutes: 0, active: true };
    const { calls } = mockFetch(ruleRoutes({ "POST /api/whatsapp/auto-replies/": { status: 201, body: created } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/auto-replies");
    await user.type(await screen.findByTestId("rule-name"), "Katalog");
    await user.selectOptions(screen.getByTestId("rule-kind"), "keyword");
    await user.type(screen.getByTestId("rule-keywords"), "katalog");
    await user.type(screen.getByTestId("rule-reply"), "Pilih kak");
    await user.type(screen.getByTestId("rule-list-rows"), "Gamis, Hijab");
    await user.click(screen.getByTestId("rule-save"));
    expect(await screen.findByText("Give the list button a label.")).toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST" && c.url === "/api/whatsapp/auto-replies/")).toBe(false);
    await user.type(screen.getByTestId("rule-list-button"), "Koleksi");
    await user.click(screen.getByTestId("rule-save"));
    await screen.findByTestId("rule-row-9");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/whatsapp/auto-replies/")?.body).toMatchObject({
      reply_list: { button: "Koleksi", rows: ["Gamis", "Hijab"] },
      reply_buttons: [],
    });
  });
});
