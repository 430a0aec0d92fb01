import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import type { Broadcast, BroadcastOptions, Estimate, Progress, Results } from "./api";
import { uploadLabelName } from "./AudienceUpload";
import { retargetName } from "./BroadcastResults";

type Routes = Parameters<typeof mockFetch>[0];

const TEMPLATE = {
  id: 7,
  name: "promo_lebaran",
  language: "id",
  category: "marketing",
  body_text: "Halo {{1}}, koleksi baru sudah datang! Diskon {{2}} khusus minggu ini.",
  parameter_count: 2,
  header_format: "image" as const,
};

const OPTIONS: BroadcastOptions = {
  templates: [TEMPLATE, { ...TEMPLATE, id: 8, name: "info_toko", body_text: "Toko buka lagi besok.", parameter_count: 0, header_format: null }],
  fields: [
    { key: "first_name", label: "First name" },
    { key: "city", label: "City" },
  ],
  attributes: [{ key: "size", label: "Size" }],
  segments: [
    { id: 3, name: "Pelanggan setia" },
    { id: 4, name: "Belum pernah beli" },
  ],
  groups: [{ key: "rfm:champions", name: "Champions" }],
  labels: [{ id: 9, name: "VIP", color: "#f00" }],
};

function broadcast(changes: Partial<Broadcast> = {}): Broadcast {
  return {
    id: 12,
    name: "Koleksi Lebaran",
    status: "draft",
    status_reason: "",
    template: TEMPLATE,
    variables: [
      { source: "field", value: "first_name", fallback: "Kak" },
      { source: "text", value: "20%", fallback: "" },
    ],
    header_media_url: "https://cdn.example/lebaran.jpg",
    audience: { segments: [3], groups: [], labels: [], contacts: [] },
    exclude_segments: [],
    frequency_cap_hours: 24,
    attribution_days: 7,
    scheduled_at: null,
    started_at: null,
    finished_at: null,
    created_at: "2026-05-01T03:00:00Z",
    recipient_count: 0,
    estimated_cost: "0.0000",
    currency: "IDR",
    repeat: "",
    trigger: "",
    trigger_days: 0,
    trigger_hours: 0,
    next_run_at: null,
    parent: null,
    ...changes,
  };
}

function progress(changes: Partial<Progress> = {}): Progress {
  return {
    status: "sending",
    status_reason: "",
    total: 1000,
    queued: 700,
    sending: 50,
    sent: 240,
    delivered: 200,
    read: 90,
    failed: 10,
    skipped: 0,
    replied: 4,
    opted_out: 1,
    failures: [{ code: 131026, reason: "Message undeliverable", count: 10 }],
    rate_per_s: 80,
    eta_s: 9,
    ...changes,
  };
}

function estimate(changes: Partial<Estimate> = {}): Estimate {
  return {
    recipients: 1234,
    excluded: { no_whatsapp: 5, opted_out: 12, undeliverable: 3, frequency_cap: 40, excluded_segments: 7 },
    markets: [
      { market: "62", name: "Indonesia", count: 1200, unit_price: "586.3000", total: "703560.0000" },
      { market: "60", name: "Malaysia", count: 34, unit_price: "1380.0000", total: "46920.0000" },
    ],
    total: "750480.0000",
    currency: "IDR",
    balance: "1000000.0000",
    cap_left: null,
    allowed: true,
    refusal: null,
    ...changes,
  };
}

const RESULTS: Results = {
  funnel: { sent: 990, delivered: 950, read: 600, replied: 80, ordered: 12 },
  revenue: "3450000.0000",
  orders: 14,
  currency: "IDR",
  cost: { estimated: "750480.0000", actual: "742100.5000" },
  opted_out: 3,
  failures: [{ code: 131026, reason: "Message undeliverable", count: 10 }],
};

function routes(extra: Routes = {}): Routes {
  return {
    "GET /api/auth/session/": { body: sessionBody("owner") },
    "GET /api/inbox/conversations/": { body: { results: [], next_before: null } },
    "GET /api/broadcasts/options/": { body: OPTIONS },
    ...extra,
  };
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

describe("Broadcasts", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
    FakeEventSource.instances = [];
  });

  it("lists broadcasts with their status, audience and a progress bar for the one sending", async () => {
    mockFetch(
      routes({
        "GET /api/broadcasts/": {
          body: {
            count: 2,
            results: [
              { ...broadcast({ id: 12, status: "sending", recipient_count: 1000, estimated_cost: "750480.0000" }), progress: progress() },
              { ...broadcast({ id: 11, name: "Draf Ramadan" }), progress: null },
            ],
          },
        },
      }),
    );
    renderApp(shopConfig({ locale: "en" }), "/broadcasts");

    const sending = await screen.findByTestId("broadcast-row-12");
    expect(within(sending).getByTestId("broadcast-status-12")).toHaveTextContent("Sending");
    expect(within(sending).getByTestId("broadcast-audience-12")).toHaveTextContent("1,000");
    // 240 sent + 10 failed of 1,000.
    expect(within(sending).getByTestId("broadcast-progress-12")).toHaveAttribute("aria-valuenow", "25");
    expect(sending).toHaveTextContent(/Rp\s750\.480/);
    expect(within(sending).getByTestId("broadcast-link-12")).toHaveAttribute("href", "/broadcasts/12");
    // A draft opens in the editor and has no bar.
    expect(screen.getByTestId("broadcast-link-11")).toHaveAttribute("href", "/broadcasts/11/edit");
    expect(screen.queryByTestId("broadcast-progress-11")).not.toBeInTheDocument();
    expect(screen.getByTestId("broadcast-new")).toHaveAttribute("href", "/broadcasts/new");
  });

  it("compose refuses an incomplete broadcast field by field, then saves it and opens the review", async () => {
    const { calls } = mockFetch(routes({ "POST /api/broadcasts/": { status: 201, body: broadcast() }, "GET /api/broadcasts/12/": { body: broadcast() } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/new");

    await user.click(await screen.findByTestId("compose-review"));
    expect(screen.getByTestId("compose-alert")).toHaveTextContent("Please check the highlighted fields.");
    expect(screen.getByTestId("compose-name-error")).toHaveTextContent("Give the broadcast a name.");
    expect(screen.getByTestId("compose-template-error")).toHaveTextContent("Choose a template.");
    expect(screen.getByTestId("compose-audience-error")).toHaveTextContent("Choose at least one segment, group, label or contact.");

    await user.type(screen.getByTestId("compose-name"), "Koleksi Lebaran");
    await user.selectOptions(screen.getByTestId("compose-template"), "7");
    // One row per {{n}} of the template, and the header link the template's image needs.
    expect(screen.getByTestId("compose-template-body")).toHaveTextContent("Halo {{1}}");
    expect(screen.getByTestId("variable-1")).toBeInTheDocument();
    expect(screen.getByTestId("variable-2")).toBeInTheDocument();
    await user.selectOptions(screen.getByTestId("variable-source-2"), "text");
    await user.click(screen.getByTestId("audience-segment-3"));
    await user.click(screen.getByTestId("exclude-segment-4"));
    await user.type(screen.getByTestId("compose-header-url"), "ftp://nope");
    await user.click(screen.getByTestId("compose-review"));

    expect(screen.getByTestId("variable-fallback-1-error")).toHaveTextContent("Enter a fallback for contacts without this data.");
    expect(screen.getByTestId("variable-value-2-error")).toHaveTextContent("Enter the text.");
    expect(screen.getByTestId("compose-header-url-error")).toHaveTextContent("Enter a link starting with https://.");
    expect(screen.queryByTestId("compose-name-error")).not.toBeInTheDocument();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    // A time in the past cannot be scheduled.
    await user.click(screen.getByTestId("compose-when-later"));
    await user.type(screen.getByTestId("compose-at"), "2020-01-01T10:00");
    await user.type(screen.getByTestId("variable-fallback-1"), "Kak");
    await user.type(screen.getByTestId("variable-value-2"), "20%");
    await user.clear(screen.getByTestId("compose-header-url"));
    await user.type(screen.getByTestId("compose-header-url"), "https://cdn.example/lebaran.jpg");
    await user.click(screen.getByTestId("compose-review"));
    expect(screen.getByTestId("compose-at-error")).toHaveTextContent("The send time must be in the future.");
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.click(screen.getByTestId("compose-when-now"));
    await user.click(screen.getByTestId("compose-review"));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/broadcasts/12/review"));
    expect(await screen.findByTestId("review-when")).toHaveTextContent("Send now");
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/broadcasts/");
    expect(post?.body).toEqual({
      name: "Koleksi Lebaran",
      template_id: 7,
      variables: [
        { source: "field", value: "first_name", fallback: "Kak" },
        { source: "text", value: "20%", fallback: "" },
      ],
      header_media_url: "https://cdn.example/lebaran.jpg",
      audience: { segments: [3], groups: [], labels: [], contacts: [] },
      exclude_segments: [4],
      frequency_cap_hours: 24,
      attribution_days: 7,
    });
  });

  it("compose shows the server's refusal under the field it names", async () => {
    mockFetch(
      routes({
        "GET /api/broadcasts/12/": { body: broadcast() },
        "PATCH /api/broadcasts/12/": { status: 400, body: { audience: ["That segment belongs to nobody here."] } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12/edit");
    expect(await screen.findByTestId("compose-name")).toHaveValue("Koleksi Lebaran");
    expect(screen.getByTestId("audience-segment-3")).toHaveAttribute("aria-pressed", "true");
    await user.click(screen.getByTestId("compose-save"));
    expect(await screen.findByTestId("compose-audience-error")).toHaveTextContent("That segment belongs to nobody here.");
  });

  it("review shows the cost per market and, when the balance refuses, the reason with Send disabled", async () => {
    mockFetch(
      routes({
        "GET /api/broadcasts/12/": { body: broadcast() },
        "GET /api/broadcasts/12/estimate/": {
          body: estimate({ balance: "100000.0000", allowed: false, refusal: "Your balance covers Rp100.000 of Rp750.480. Top up Rp650.480 to send." }),
        },
        "GET /api/broadcasts/12/preview/": { body: { recipients: [{ contact_id: 1, name: "Rina", to: "+6281200001111", text: "Halo Rina, koleksi baru sudah datang! Diskon 20% khusus minggu ini." }] } },
      }),
    );
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12/review");

    expect(await screen.findByTestId("review-refusal")).toHaveTextContent("Top up Rp650.480 to send.");
    expect(screen.getByTestId("review-send")).toBeDisabled();
    expect(screen.getByTestId("review-recipients")).toHaveTextContent("1,234");
    expect(screen.getByTestId("review-excluded-frequency_cap")).toHaveTextContent(/Reached recently.*40/);
    expect(screen.getByTestId("review-excluded-opted_out")).toHaveTextContent("12");
    expect(screen.getByTestId("review-market-62")).toHaveTextContent(/Indonesia.*1,200.*Rp\s586.*Rp\s703\.560/);
    expect(screen.getByTestId("review-total")).toHaveTextContent(/Rp\s750\.480/);
    expect(screen.getByTestId("review-balance")).toHaveTextContent(/Rp\s100\.000/);
    expect(await screen.findByTestId("review-preview-1")).toHaveTextContent("Halo Rina, koleksi baru");
  });

  it("review sends now and opens the progress; a 402 at send time shows the refusal", async () => {
    let refuse = true;
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/12/": { body: broadcast() },
        "GET /api/broadcasts/12/estimate/": { body: estimate() },
        "GET /api/broadcasts/12/preview/": { body: { recipients: [] } },
        "POST /api/broadcasts/12/send/": () =>
          refuse ? { status: 402, body: { detail: "The monthly cap is reached.", code: "cap_reached" } } : { body: broadcast({ status: "sending" }) },
        "GET /api/broadcasts/12/progress/": { body: progress() },
        "GET /api/broadcasts/12/results/": { body: RESULTS },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12/review");
    const send = await screen.findByTestId("review-send");
    await waitFor(() => expect(send).toHaveTextContent("Send now to 1,234 recipients"));
    await user.click(send);
    expect(await screen.findByTestId("review-refusal")).toHaveTextContent("The monthly cap is reached.");
    expect(screen.getByTestId("review-send")).toBeDisabled();
    expect(calls.filter((c) => c.url === "/api/broadcasts/12/send/")[0].body).toEqual({ at: null });
  });

  it("progress moves with each broadcast.progress event and offers Pause", async () => {
    vi.stubGlobal("EventSource", FakeEventSource);
    let status: Progress["status"] = "sending";
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/12/": () => ({ body: broadcast({ status, started_at: "2026-05-01T03:00:00Z", recipient_count: 1000 }) }),
        "GET /api/broadcasts/12/progress/": () => ({ body: progress({ status }) }),
        "GET /api/broadcasts/12/results/": { body: RESULTS },
        "POST /api/broadcasts/12/pause/": () => {
          status = "paused";
          return { body: broadcast({ status }) };
        },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12");

    const bar = await screen.findByTestId("progress-bar");
    await waitFor(() => expect(bar).toHaveAttribute("aria-valuenow", "25"));
    const stream = FakeEventSource.instances.find((s) => s.url === "/api/inbox/stream/");
    expect(stream).toBeDefined();
    const inboxCalls = () => calls.filter((c) => c.url.startsWith("/api/inbox/")).length;
    const inboxBefore = inboxCalls();
    act(() => {
      // Another broadcast's event changes nothing here.
      stream!.emit("broadcast.progress", { broadcast_id: 99, ...progress({ sent: 1000, queued: 0, sending: 0 }) });
    });
    expect(bar).toHaveAttribute("aria-valuenow", "25");
    act(() => {
      stream!.emit("broadcast.progress", {
        broadcast_id: 12,
        ...progress({ queued: 300, sending: 20, sent: 640, delivered: 600, read: 310, failed: 40, replied: 25, rate_per_s: 812.5, eta_s: 75, failures: [{ code: 131026, reason: "Message undeliverable", count: 40 }] }),
      });
    });
    expect(bar).toHaveAttribute("aria-valuenow", "68");
    expect(screen.getByTestId("progress-done")).toHaveTextContent("680 of 1,000 processed");
    expect(screen.getByTestId("progress-queued")).toHaveTextContent("320");
    expect(screen.getByTestId("progress-sent")).toHaveTextContent("640");
    expect(screen.getByTestId("progress-delivered")).toHaveTextContent("600");
    expect(screen.getByTestId("progress-read")).toHaveTextContent("310");
    expect(screen.getByTestId("progress-failed")).toHaveTextContent("40");
    expect(screen.getByTestId("progress-replied")).toHaveTextContent("25");
    expect(screen.getByTestId("progress-rate")).toHaveTextContent("812.5 messages/s");
    expect(screen.getByTestId("progress-eta")).toHaveTextContent("1 min 15 s");
    expect(screen.getByTestId("progress-failures")).toHaveTextContent(/Message undeliverable.*131026.*40/);
    // The funnel moves with the same event; orders still come from results/.
    expect(screen.getByTestId("funnel-read")).toHaveAttribute("data-count", "310");
    expect(screen.getByTestId("funnel-ordered")).toHaveAttribute("data-count", String(RESULTS.funnel.ordered));
    // The inbox's own listeners are not woken by broadcast ticks.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(inboxCalls()).toBe(inboxBefore);

    await user.click(screen.getByTestId("broadcast-pause"));
    expect(await screen.findByTestId("broadcast-resume")).toBeInTheDocument();
    expect(screen.getByTestId("broadcast-status")).toHaveTextContent("Paused");
  });

  it("without a live stream the progress is polled, and the page turns to results when it completes", async () => {
    let current = progress();
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/12/": () => ({ body: broadcast({ status: current.status, started_at: "2026-05-01T03:00:00Z" }) }),
        "GET /api/broadcasts/12/progress/": () => ({ body: current }),
        "GET /api/broadcasts/12/results/": { body: RESULTS },
      }),
    );
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12");
    await waitFor(() => expect(screen.getByTestId("progress-bar")).toHaveAttribute("aria-valuenow", "25"));

    current = progress({ status: "completed", queued: 0, sending: 0, sent: 990, failed: 10 });
    await waitFor(() => expect(screen.getByTestId("progress-bar")).toHaveAttribute("aria-valuenow", "100"), { timeout: 4000 });
    await waitFor(() => expect(screen.getByTestId("broadcast-status")).toHaveTextContent("Completed"));
    expect(screen.queryByTestId("broadcast-pause")).not.toBeInTheDocument();
    expect(calls.filter((c) => c.url === "/api/broadcasts/12/progress/").length).toBeGreaterThanOrEqual(2);
  });

  it("results show the funnel to the sale, the cost before and after, failed recipients, and build a retargeting segment", async () => {
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/12/": { body: broadcast({ status: "completed", started_at: "2026-05-01T03:00:00Z", finished_at: "2026-05-01T03:05:00Z" }) },
        "GET /api/broadcasts/12/progress/": { body: progress({ status: "completed", queued: 0, sending: 0, sent: 990, failed: 10, eta_s: null }) },
        "GET /api/broadcasts/12/results/": { body: RESULTS },
        "GET /api/broadcasts/12/recipients/": {
          body: { count: 1, results: [{ contact_id: 5, name: "Budi", to: "+6281200002222", status: "failed", error_reason: "Message undeliverable", sent_at: null, read_at: null, replied_at: null }] },
        },
        "POST /api/broadcasts/12/retarget/": { status: 201, body: { segment_id: 31, name: "Koleksi Lebaran · Read but no reply", count: 520 } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12");

    const funnel = await screen.findByTestId("results-funnel");
    expect(within(funnel).getByTestId("funnel-sent")).toHaveTextContent("990");
    expect(within(funnel).getByTestId("funnel-read")).toHaveTextContent(/600.*60\.6%/);
    expect(within(funnel).getByTestId("funnel-ordered")).toHaveTextContent("12");
    expect(screen.getByTestId("results-revenue")).toHaveTextContent(/Rp\s3\.450\.000/);
    expect(screen.getByTestId("results-cost-estimated")).toHaveTextContent(/Rp\s750\.480/);
    expect(screen.getByTestId("results-cost-actual")).toHaveTextContent(/Rp\s742\.101/);
    expect(screen.getByTestId("results-opted-out")).toHaveTextContent("3");

    await user.click(screen.getByTestId("results-failed-toggle"));
    expect(await screen.findByTestId("results-failed-recipients")).toHaveTextContent(/Budi.*\+6281200002222.*Message undeliverable/);
    expect(calls.some((c) => c.url === "/api/broadcasts/12/recipients/?step=failed")).toBe(true);

    await user.click(screen.getByTestId("retarget-create-read_no_reply"));
    const link = await screen.findByTestId("retarget-link-read_no_reply");
    expect(link).toHaveTextContent('Segment "Koleksi Lebaran · Read but no reply" (520 contacts) in Segments');
    expect(link).toHaveAttribute("href", "/contacts/segments");
    expect(calls.find((c) => c.url === "/api/broadcasts/12/retarget/")?.body).toEqual({ step: "read_no_reply", name: "Koleksi Lebaran · Read but no reply" });
  });

  it("names a retargeting segment after its broadcast within the 80 characters a segment name may have", () => {
    expect(retargetName("Koleksi Lebaran", "Read but no reply")).toBe("Koleksi Lebaran · Read but no reply");
    const long = retargetName("Promo ".repeat(20), "Replied but no order");
    expect(long).toHaveLength(80);
    expect(long.endsWith("… · Replied but no order")).toBe(true);
  });

  it("compose imports an uploaded list under a label named after the broadcast, adds that label to the audience and lists the unreadable lines", async () => {
    const LIST_LABEL = { id: 21, name: "Broadcast: Koleksi Lebaran", color: "#888" };
    let optionsCalls = 0;
    let polls = 0;
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/options/": () => {
          optionsCalls += 1;
          // The label exists once the import has run.
          return { body: optionsCalls === 1 ? OPTIONS : { ...OPTIONS, labels: [...OPTIONS.labels, LIST_LABEL] } };
        },
        "POST /api/crm/imports/": {
          status: 201,
          body: {
            id: 31,
            filename: "pembeli-lebaran.csv",
            columns: ["Nama", "No HP"],
            preview: [
              ["Rina", "0812 0000 1111"],
              ["Dewi", "12"],
            ],
            suggested_mapping: { Nama: "name", "No HP": "phone" },
            fields: [
              { key: "name", label: "Name" },
              { key: "phone", label: "Phone" },
            ],
          },
        },
        "POST /api/crm/imports/31/start/": { status: 202, body: { id: 31, status: "running" } },
        "GET /api/crm/imports/31/": () => {
          polls += 1;
          return polls < 2
            ? { body: { id: 31, status: "running", total_rows: 4, processed_rows: 2, created_count: 1, updated_count: 0, failed_count: 1, errors: [], finished_at: null } }
            : {
                body: {
                  id: 31,
                  status: "done",
                  total_rows: 4,
                  processed_rows: 4,
                  created_count: 2,
                  updated_count: 0,
                  failed_count: 2,
                  errors: [
                    { line: 3, reason: "Invalid phone number: 12" },
                    { line: 5, reason: "No phone number." },
                  ],
                  finished_at: "2026-05-01T03:00:00Z",
                },
              };
        },
        "POST /api/broadcasts/": { status: 201, body: broadcast() },
        "GET /api/broadcasts/12/": { body: broadcast() },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/new");

    await user.upload(await screen.findByTestId("import-file"), new File(["Nama,No HP\nRina,0812 0000 1111\n"], "pembeli-lebaran.csv", { type: "text/csv" }));
    // The columns are matched as the server suggests; without a name there is no label to give the list yet.
    expect(await screen.findByTestId("import-mapping-No HP")).toHaveValue("phone");
    expect(screen.getByTestId("audience-upload-label")).toHaveTextContent("Name the broadcast first");
    expect(screen.getByTestId("import-start")).toBeDisabled();

    await user.type(screen.getByTestId("compose-name"), "Koleksi Lebaran");
    expect(screen.getByTestId("audience-upload-label")).toHaveTextContent("Every contact in the list gets the label “Broadcast: Koleksi Lebaran”.");
    await user.click(screen.getByTestId("import-start"));
    expect(calls.find((c) => c.url === "/api/crm/imports/31/start/")?.body).toEqual({
      mapping: { Nama: "name", "No HP": "phone" },
      update_existing: true,
      label_all: "Broadcast: Koleksi Lebaran",
    });

    expect(await screen.findByTestId("audience-upload-summary", {}, { timeout: 3000 })).toHaveTextContent("2 contacts imported, 2 lines could not be read");
    const rows = within(screen.getByTestId("import-errors")).getAllByTestId("import-error-row");
    expect(rows.map((r) => r.textContent)).toEqual(["3Invalid phone number: 12", "5No phone number."]);
    expect(await screen.findByTestId("audience-upload-added")).toHaveTextContent("Label “Broadcast: Koleksi Lebaran” added to the audience.");
    expect(screen.getByTestId("audience-label-21")).toHaveAttribute("aria-pressed", "true");
    expect(screen.getByTestId("audience-label-9")).toHaveAttribute("aria-pressed", "false");

    // The label alone is an audience: the draft saves with it.
    await user.selectOptions(screen.getByTestId("compose-template"), "8");
    await user.click(screen.getByTestId("compose-save"));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url === "/api/broadcasts/")).toBe(true));
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/broadcasts/");
    expect((post?.body as { audience: unknown }).audience).toEqual({ segments: [], groups: [], labels: [21], contacts: [] });
  });

  it("names an uploaded list's label after the broadcast within the 40 characters a label may have", () => {
    const t = (_key: string, vars?: Record<string, unknown>) => `Broadcast: ${String(vars?.name)}`;
    expect(uploadLabelName("  Koleksi   Lebaran ", t)).toBe("Broadcast: Koleksi Lebaran");
    expect(uploadLabelName("Diskon 🎉".repeat(10), t)).toBe(Array.from(`Broadcast: ${"Diskon 🎉".repeat(10)}`).slice(0, 40).join(""));
    expect(Array.from(uploadLabelName("x".repeat(80), t))).toHaveLength(40);
    expect(uploadLabelName("   ", t)).toBe("");
  });

  it("compose adds hand-picked contacts found by search and removes them by their chip", async () => {
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/12/": { body: broadcast({ audience: { segments: [], groups: [], labels: [], contacts: [5] } }) },
        "GET /api/crm/contacts/5/": { body: { id: 5, name: "Rina", phone: "+6281200001111" } },
        "GET /api/crm/contacts/": {
          body: {
            results: [
              { id: 5, name: "Rina", phone: "+6281200001111", city: "Bandung" },
              { id: 6, name: "Rini Wulandari", phone: "+6281300002222", city: "Solo" },
            ],
            next_cursor: null,
          },
        },
        "PATCH /api/broadcasts/12/": { body: broadcast() },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12/edit");

    // A saved draft's picked contact is shown by name.
    const saved = await screen.findByTestId("audience-contact-5");
    await waitFor(() => expect(saved).toHaveTextContent("Rina+6281200001111"));
    await user.type(screen.getByTestId("audience-contact-search"), "rin");
    // Rina is already picked, so only Rini is offered.
    await user.click(await screen.findByTestId("audience-contact-search-option-6"));
    expect(screen.queryByTestId("audience-contact-search-option-5")).not.toBeInTheDocument();
    expect(calls.some((c) => c.url === "/api/crm/contacts/?q=rin")).toBe(true);
    expect(screen.getByTestId("audience-contact-6")).toHaveTextContent("Rini Wulandari");
    expect(screen.getByTestId("audience-contact-search")).toHaveValue("");

    await user.click(screen.getByRole("button", { name: "Remove Rina from the audience" }));
    expect(screen.queryByTestId("audience-contact-5")).not.toBeInTheDocument();
    await user.click(screen.getByTestId("compose-save"));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect((calls.find((c) => c.method === "PATCH")?.body as { audience: unknown }).audience).toEqual({ segments: [], groups: [], labels: [], contacts: [6] });

    // With every contact removed and no other audience, the draft is refused before it is sent.
    await user.click(screen.getByTestId("audience-contact-remove-6"));
    expect(screen.getByTestId("audience-contacts")).toHaveTextContent("No contacts picked one by one yet.");
    await user.click(screen.getByTestId("compose-save"));
    expect(screen.getByTestId("compose-audience-error")).toHaveTextContent("Choose at least one segment, group, label or contact.");
    expect(calls.filter((c) => c.method === "PATCH")).toHaveLength(1);
  });

  it("speaks Indonesian by default", async () => {
    mockFetch(routes({ "GET /api/broadcasts/": { body: { count: 0, results: [] } } }));
    renderApp(shopConfig(), "/broadcasts");
    expect(await screen.findByText("Belum ada siaran")).toBeInTheDocument();
    expect(screen.getByTestId("broadcast-new")).toHaveTextContent("Siaran baru");
  });
});

describe("Repeating and triggered broadcasts", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  async function composeBasics(user: ReturnType<typeof userEvent.setup>) {
    await user.type(await screen.findByTestId("compose-name"), "Koleksi mingguan");
    await user.selectOptions(screen.getByTestId("compose-template"), "8");
  }

  it("compose repeats weekly from a first send in the shop's time and activates it instead of reviewing", async () => {
    const saved = broadcast({ id: 12, template: OPTIONS.templates[1], variables: [], header_media_url: "", repeat: "weekly" });
    const { calls } = mockFetch(
      routes({
        "POST /api/broadcasts/": { status: 201, body: saved },
        "POST /api/broadcasts/12/send/": { body: { ...saved, status: "active", next_run_at: "2099-01-05T02:00:00Z" } },
        "GET /api/broadcasts/12/": { body: { ...saved, status: "active", next_run_at: "2099-01-05T02:00:00Z", occurrences: [] } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/new");
    await composeBasics(user);
    await user.click(screen.getByTestId("audience-segment-3"));

    await user.click(screen.getByTestId("compose-when-repeat"));
    expect(screen.getByTestId("compose-review")).toHaveTextContent("Activate");
    await user.selectOptions(screen.getByTestId("compose-repeat"), "weekly");
    await user.click(screen.getByTestId("compose-review"));
    expect(screen.getByTestId("compose-at-error")).toHaveTextContent("Choose the date and time to send.");
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.type(screen.getByTestId("compose-at"), "2099-01-05T09:00");
    await user.click(screen.getByTestId("compose-review"));

    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/broadcasts/12"));
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/broadcasts/")?.body).toMatchObject({ repeat: "weekly", trigger: "" });
    // 09:00 in Jakarta is 02:00 UTC: the first send, and the time every later one keeps.
    expect(calls.find((c) => c.url === "/api/broadcasts/12/send/")?.body).toEqual({ at: "2099-01-05T02:00:00.000Z" });
    expect(await screen.findByTestId("recurring-schedule")).toHaveTextContent("Every week");
    expect(screen.getByTestId("occurrences-empty")).toBeInTheDocument();
  });

  it("compose triggers on an event without an audience, asks for the days after an order or the cart's delay", async () => {
    const saved = broadcast({ id: 12, template: OPTIONS.templates[1], variables: [], header_media_url: "", audience: { segments: [], groups: [], labels: [], contacts: [] }, trigger: "cart_left", trigger_hours: 3 });
    const { calls } = mockFetch(
      routes({
        "POST /api/broadcasts/": { status: 201, body: saved },
        "POST /api/broadcasts/12/send/": { body: { ...saved, status: "active" } },
        "GET /api/broadcasts/12/": { body: { ...saved, status: "active", occurrences: [] } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/new");
    await composeBasics(user);

    await user.click(screen.getByTestId("compose-when-trigger"));
    expect(screen.getByTestId("compose-trigger-hint")).toHaveTextContent("once per event");
    await user.selectOptions(screen.getByTestId("compose-trigger"), "days_after_order");
    await user.clear(screen.getByTestId("compose-trigger-days"));
    await user.click(screen.getByTestId("compose-review"));
    expect(screen.getByTestId("compose-trigger-days-error")).toHaveTextContent("Enter a number of days from 1 to 365.");
    expect(screen.queryByTestId("compose-audience-error")).not.toBeInTheDocument();

    await user.selectOptions(screen.getByTestId("compose-trigger"), "cart_left");
    expect(screen.queryByTestId("compose-trigger-days")).not.toBeInTheDocument();
    await user.clear(screen.getByTestId("compose-trigger-hours"));
    await user.type(screen.getByTestId("compose-trigger-hours"), "3");
    await user.click(screen.getByTestId("compose-review"));

    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/broadcasts/12"));
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/broadcasts/");
    expect(post?.body).toMatchObject({ repeat: "", trigger: "cart_left", trigger_hours: 3 });
    expect(post?.body).not.toHaveProperty("trigger_days");
    expect(calls.find((c) => c.url === "/api/broadcasts/12/send/")?.body).toEqual({ at: null });
    expect(await screen.findByTestId("recurring-schedule")).toHaveTextContent("Cart left for 3 hours");
  });

  it("a parent's page lists its sends linking to their results, says why one did not go, and pauses it", async () => {
    const parent = broadcast({
      status: "active",
      repeat: "weekly",
      next_run_at: "2099-01-12T02:00:00Z",
      status_reason: "Your balance covers Rp100 of Rp750. Top up Rp650 to send.",
      occurrences: [
        { id: 31, name: "Koleksi Lebaran · 2099-01-05 09:00", started_at: "2099-01-05T02:00:05Z", status: "completed", recipients: 1234 },
      ],
    });
    const { calls } = mockFetch(
      routes({
        "GET /api/broadcasts/12/": { body: parent },
        "POST /api/broadcasts/12/pause/": { body: { ...parent, status: "inactive" } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/broadcasts/12");

    expect(await screen.findByTestId("recurring-reason")).toHaveTextContent("Top up Rp650 to send.");
    expect(screen.getByTestId("recurring-next-run")).toBeInTheDocument();
    expect(screen.getByTestId("occurrence-31")).toHaveTextContent("1,234");
    expect(screen.getByTestId("occurrence-link-31")).toHaveAttribute("href", "/broadcasts/31");
    expect(screen.queryByTestId("broadcast-progress")).not.toBeInTheDocument();
    expect(calls.some((c) => c.url.includes("/progress/"))).toBe(false);

    await user.click(screen.getByTestId("broadcast-pause"));
    expect(await screen.findByTestId("broadcast-status")).toHaveTextContent("Inactive");
    expect(screen.getByTestId("broadcast-resume")).toBeInTheDocument();
  });
});
