import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { ContactDetail, ContactRow } from "../../api";
import { mockFetch, renderApp, sessionBody, shopConfig, type Call } from "../../test/utils";

export function contactRow(id: number, extra: Partial<ContactRow> = {}): ContactRow {
  return {
    id,
    name: `Contact ${id}`,
    phone: `+62812000${id}`,
    email: "",
    city: "Bandung",
    labels: [],
    owner_id: null,
    owner_name: null,
    source: "whatsapp",
    marketing_opt_out: false,
    order_count: 2,
    total_spent: 300000,
    last_order_at: "2024-05-01T03:00:00Z",
    rfm_segment: null,
    created_at: "2024-01-15T17:30:00Z",
    ...extra,
  };
}

export function contactDetail(id: number, extra: Partial<ContactDetail> = {}): ContactDetail {
  return {
    ...contactRow(id),
    address: "",
    birthday: null,
    gender: "",
    attributes: {},
    notes: "",
    marketing_opt_out_at: null,
    marketing_opt_out_reason: "",
    wa_id: `62812000${id}`,
    conversation_id: 44,
    last_inbound_at: null,
    first_order_at: null,
    ...extra,
  };
}

const LABELS = [
  { id: 7, name: "VIP", color: "#f59e0b", contact_count: 3 },
  { id: 8, name: "Reseller", color: "#0ea5e9", contact_count: 1 },
];

function routes(extra: Record<string, unknown> = {}) {
  return {
    "GET /api/auth/session/": { body: sessionBody("owner") },
    "GET /api/crm/contacts/": { body: { results: [contactRow(1), contactRow(2), contactRow(3, { labels: [LABELS[0]] })], next_cursor: null } },
    "GET /api/crm/labels/": { body: LABELS },
    "GET /api/crm/attributes/": { body: [] },
    "GET /api/team/members/": { body: [] },
    ...extra,
  } as Parameters<typeof mockFetch>[0];
}

const qOf = (c: Call) => new URL(c.url, "http://x").searchParams.get("q");

describe("Contacts list", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("renders rows and sends the search box and filters as query parameters", async () => {
    const { calls } = mockFetch(routes());
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/contacts");

    const row = await screen.findByTestId("contact-row-3");
    expect(row).toHaveTextContent("Contact 3");
    expect(row).toHaveTextContent("VIP");
    expect(row.textContent?.replace(/\s/g, " ")).toContain("Rp 300.000");

    await user.type(screen.getByTestId("contacts-search"), "+62 812-0001");
    await waitFor(() => expect(calls.some((c) => c.url.startsWith("/api/crm/contacts/?") && qOf(c) === "+62 812-0001")).toBe(true));

    await user.selectOptions(screen.getByTestId("contacts-filter-label"), "7");
    await user.selectOptions(screen.getByTestId("contacts-filter-consent"), "opted_out");
    await waitFor(() => {
      const last = calls.filter((c) => c.url.startsWith("/api/crm/contacts/?")).pop()!;
      const params = new URL(last.url, "http://x").searchParams;
      expect(params.get("label")).toBe("7");
      expect(params.get("consent")).toBe("opted_out");
      expect(params.get("q")).toBe("+62 812-0001");
    });
    // The export link carries the same filters.
    const href = screen.getByTestId("contacts-export").getAttribute("href")!;
    expect(href.startsWith("/api/crm/contacts/export/?")).toBe(true);
    expect(new URL(href, "http://x").searchParams.get("label")).toBe("7");
  });

  it("shows the duplicate-phone error under the phone field", async () => {
    const { calls } = mockFetch(
      routes({
        "POST /api/crm/contacts/": { status: 400, body: { phone: ["A contact with this phone number already exists: Sari (#12)."] } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/contacts");

    await user.click(await screen.findByTestId("contact-new"));
    await user.type(screen.getByTestId("contact-name"), "Sari");
    await user.type(screen.getByTestId("contact-phone"), "0812 3456 789");
    await user.type(screen.getByTestId("contact-city"), "Bandung");
    await user.click(screen.getByTestId("contact-save"));

    expect(await screen.findByTestId("contact_phone-error")).toHaveTextContent("A contact with this phone number already exists: Sari (#12).");
    expect(screen.getByTestId("contact-phone")).toHaveAttribute("aria-invalid", "true");
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/crm/contacts/");
    expect(post?.body).toMatchObject({ name: "Sari", phone: "0812 3456 789", city: "Bandung", email: "", label_ids: [], owner_id: null, marketing_opt_out: false });
  });

  it("applies a label to the selected contacts in bulk", async () => {
    const { calls } = mockFetch(routes({ "POST /api/crm/contacts/bulk/": { body: { updated: 2 } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/contacts");

    await user.click(await screen.findByTestId("contact-select-1"));
    await user.click(screen.getByTestId("contact-select-3"));
    expect(screen.getByTestId("contacts-bulk-bar")).toHaveTextContent("2 selected");
    await user.selectOptions(screen.getByTestId("contacts-bulk-label"), "8");
    await user.click(screen.getByTestId("contacts-bulk-apply"));

    expect(await screen.findByTestId("contacts-notice")).toHaveTextContent("2 contacts updated.");
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/crm/contacts/bulk/");
    expect(post?.body).toEqual({ ids: [1, 3], add_label_ids: [8], remove_label_ids: [] });
    expect(post?.headers["X-CSRFToken"]).toBe("tok");
  });

  it("imports a file: upload → mapping → start → progress polling → error lines", async () => {
    let polls = 0;
    const { calls } = mockFetch(
      routes({
        "POST /api/crm/imports/": {
          status: 201,
          body: {
            id: 9,
            filename: "pelanggan.csv",
            columns: ["Nama", "HP", "Kota"],
            preview: [
              ["Sari", "0812111", "Bandung"],
              ["Budi", "0813222", "Jakarta"],
            ],
            suggested_mapping: { Nama: "name", HP: null, Kota: "city" },
            fields: [
              { key: "name", label: "Name" },
              { key: "phone", label: "Phone" },
              { key: "city", label: "City" },
              { key: "attribute:size", label: "Size" },
            ],
          },
        },
        "POST /api/crm/imports/9/start/": { body: { id: 9, status: "running" } },
        "GET /api/crm/imports/9/": () => {
          polls += 1;
          return polls < 2
            ? { body: { id: 9, status: "running", total_rows: 3, processed_rows: 1, created_count: 1, updated_count: 0, failed_count: 0, errors: [], finished_at: null } }
            : {
                body: {
                  id: 9,
                  status: "done",
                  total_rows: 3,
                  processed_rows: 3,
                  created_count: 1,
                  updated_count: 1,
                  failed_count: 1,
                  errors: [{ line: 3, reason: "Invalid phone number: 12" }],
                  finished_at: "2024-05-01T03:00:00Z",
                },
              };
        },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/contacts");

    await user.click(await screen.findByTestId("contacts-import"));
    const file = new File(["Nama,HP,Kota\nSari,0812111,Bandung\n"], "pelanggan.csv", { type: "text/csv" });
    await user.upload(screen.getByTestId("import-file"), file);

    const upload = await waitFor(() => {
      const c = calls.find((x) => x.method === "POST" && x.url === "/api/crm/imports/");
      expect(c).toBeDefined();
      return c!;
    });
    expect(upload.body).toBeInstanceOf(FormData);
    expect(((upload.body as FormData).get("file") as File).name).toBe("pelanggan.csv");
    expect(upload.headers["Content-Type"]).toBeUndefined();

    expect(await screen.findByTestId("import-mapping-Nama")).toHaveValue("name");
    expect(screen.getByTestId("import-mapping-HP")).toHaveValue("");
    expect(screen.getByTestId("import-mapping")).toHaveTextContent("Sari, Budi");
    await user.selectOptions(screen.getByTestId("import-mapping-HP"), "phone");
    await user.click(screen.getByTestId("import-start"));

    const progress = await screen.findByTestId("import-progress");
    expect(calls.find((c) => c.url === "/api/crm/imports/9/start/")?.body).toEqual({ mapping: { Nama: "name", HP: "phone", Kota: "city" }, update_existing: true });
    await waitFor(() => expect(progress).toHaveAttribute("aria-valuenow", "33"), { timeout: 3000 });
    const errors = await screen.findByTestId("import-errors", {}, { timeout: 3000 });
    expect(progress).toHaveAttribute("aria-valuenow", "100");
    expect(within(errors).getAllByTestId("import-error-row")[0]).toHaveTextContent("3");
    expect(errors).toHaveTextContent("Invalid phone number: 12");
    expect(screen.getByTestId("import-counts")).toHaveTextContent("1 created, 1 updated, 1 failed");
    // Polling stops once done.
    const pollCount = calls.filter((c) => c.url === "/api/crm/imports/9/").length;
    await new Promise((r) => setTimeout(r, 700));
    expect(calls.filter((c) => c.url === "/api/crm/imports/9/").length).toBe(pollCount);
  });
});

describe("Contact detail", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("shows the card, the timeline, adds a note and links to the chat", async () => {
    const { calls } = mockFetch(
      routes({
        "GET /api/crm/contacts/5/": { body: contactDetail(5, { name: "Sari", labels: [LABELS[0]] }) },
        "GET /api/crm/contacts/5/timeline/": {
          body: {
            results: [
              { id: 2, kind: "order.created", summary: "Order #1001 created (Rp 305.000)", actor_name: "Budi", created_at: "2024-05-02T03:00:00Z", data: {} },
              { id: 1, kind: "label.added", summary: "Label VIP added", actor_name: null, created_at: "2024-05-01T03:00:00Z", data: {} },
            ],
            next_before: null,
          },
        },
        "POST /api/crm/contacts/5/notes/": { status: 201, body: { id: 3, kind: "note", summary: "Suka warna hitam", actor_name: "Sari Dewi", created_at: "2024-05-03T03:00:00Z", data: {} } },
        "GET /api/crm/orders/": { body: { results: [], next_cursor: null } },
        "GET /api/crm/deals/board/": { body: { stages: [] } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/contacts/5");

    const timeline = await screen.findByTestId("contact-timeline");
    const items = within(timeline).getAllByTestId("timeline-item");
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent("New order");
    expect(items[0]).toHaveTextContent("Order #1001 created");
    expect(items[0]).toHaveTextContent("Budi");
    expect(items[0]).toHaveTextContent("10:00"); // 03:00Z in Jakarta
    expect(screen.getByTestId("contact-title")).toHaveTextContent("Sari");
    expect(screen.getByTestId("contact-label-7")).toHaveTextContent("VIP");
    expect(screen.getByTestId("contact-open-chat")).toHaveAttribute("href", "/inbox/44");

    await user.type(screen.getByTestId("note-text"), "Suka warna hitam");
    await user.click(screen.getByTestId("note-save"));
    await waitFor(() => expect(within(timeline).getAllByTestId("timeline-item")).toHaveLength(3));
    expect(within(timeline).getAllByTestId("timeline-item")[0]).toHaveTextContent("Suka warna hitam");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/crm/contacts/5/notes/")?.body).toEqual({ text: "Suka warna hitam" });
    expect(calls.some((c) => c.url === "/api/crm/orders/?contact_id=5")).toBe(true);
  });
});
