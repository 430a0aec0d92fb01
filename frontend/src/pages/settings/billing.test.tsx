import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { BillingOverview } from "../../api";
import type { Role } from "../../config";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import { decimalToMinor, parseAmount, POLL_ATTEMPTS, POLL_EVERY_MS } from "./BillingPage";

vi.mock("../../browser", async (importOriginal) => ({ ...(await importOriginal<typeof import("../../browser")>()), redirectTo: vi.fn() }));
import { redirectTo } from "../../browser";

const PLAN = {
  monthly_price: 0,
  broadcasts_per_month: 2,
  whatsapp_markup_percent: "20.00",
  usage_billing: "prepaid",
  features: ["inbox"],
};

function overview(changes: Partial<BillingOverview> = {}): BillingOverview {
  return {
    currency: "IDR",
    plan: { ...PLAN, code: "trial", name: "Trial", staff_seats: 3, contact_limit: 1000, automation_rules: 5, is_trial_plan: true },
    plans: [
      { ...PLAN, code: "starter", name: "Starter", monthly_price: 149000, staff_seats: 3, contact_limit: 5000, broadcasts_per_month: 10, automation_rules: 20, is_trial_plan: false },
      { ...PLAN, code: "growth", name: "Growth", monthly_price: 399000, staff_seats: 10, contact_limit: 50000, broadcasts_per_month: 100, automation_rules: null, is_trial_plan: false },
    ],
    limits: [
      { limit: "staff_seats", used: 2, allowed: 3 },
      { limit: "contact_limit", used: 950, allowed: 1000 },
      { limit: "automation_rules", used: 1, allowed: null },
    ],
    subscription: { status: "", current_period_end: null, cancel_at_period_end: false, trial_ends_at: "2099-06-14T05:00:00Z" },
    read_only: null,
    payment_warning: null,
    balance: {
      balance: "1300000.0000",
      reserved: "50000.0000",
      available: "1250000.0000",
      saved_card: false,
      auto_recharge: false,
      auto_recharge_below: 0,
      auto_recharge_amount: 0,
      auto_recharge_error: "",
    },
    cap: { monthly_cap: null, percent: null },
    usage: {
      from: "2026-05-01",
      to: "2026-05-03",
      by_category: [
        { category: "marketing", messages: 120, billable_messages: 118, meta_cost: "90288.0000", price: "108345.6000" },
        { category: "service", messages: 40, billable_messages: 0, meta_cost: "0.0000", price: "0.0000" },
      ],
      total_messages: 160,
      total_billable: 118,
      total_price: "108345.6000",
      projected_price: "1119571.2000",
      daily: [
        { day: "2026-05-01", category: "marketing", messages: 100, price: "90288.0000" },
        { day: "2026-05-01", category: "service", messages: 30, price: "0.0000" },
        { day: "2026-05-03", category: "marketing", messages: 20, price: "18057.6000" },
      ],
    },
    ...changes,
  };
}

const INVOICES = [
  { id: "in_1", number: "WRG-0001", status: "paid", amount_due: 149000, amount_paid: 149000, currency: "IDR", created: 1714521600, url: "https://pay.example/in_1" },
];

function routes(role: Role = "owner", extra: Parameters<typeof mockFetch>[0] = {}): Parameters<typeof mockFetch>[0] {
  return {
    "GET /api/auth/session/": { body: sessionBody(role) },
    "GET /api/billing/": { body: overview() },
    "GET /api/billing/invoices/": { body: INVOICES },
    ...extra,
  };
}

describe("Settings > Billing", () => {
  beforeEach(() => {
    sessionStorage.clear();
    document.cookie = "csrftoken=tok; path=/";
    vi.mocked(redirectTo).mockClear();
  });

  it("shows the balance, this month's usage by category in Indonesian, limits, plans and invoices", async () => {
    mockFetch(routes());
    renderApp(shopConfig(), "/settings/billing");

    expect(await screen.findByTestId("billing-balance")).toHaveTextContent(/^Rp\s1\.250\.000$/);
    expect(screen.getByTestId("billing-reserved")).toHaveTextContent(/Rp\s50\.000 sedang ditahan/);
    expect(screen.getByTestId("settings-billing-tab")).toHaveTextContent("Tagihan");

    const marketing = screen.getByTestId("billing-usage-row-marketing");
    expect(marketing).toHaveTextContent("Pemasaran");
    expect(marketing).toHaveTextContent("120");
    expect(marketing).toHaveTextContent("118");
    expect(marketing).toHaveTextContent(/Rp\s108\.346/);
    expect(screen.getByTestId("billing-usage-row-service")).toHaveTextContent("Layanan");
    expect(screen.getByTestId("billing-usage-row-total")).toHaveTextContent(/Total\s*160\s*118\s*Rp\s108\.346/);
    expect(screen.getByTestId("billing-usage-projected")).toHaveTextContent(/Rp\s1\.119\.571/);
    // Three days in the chart, the first stacked from two categories; service costs nothing so has no money bar.
    expect(within(screen.getByTestId("billing-usage-day-2026-05-01")).getAllByTestId("billing-usage-segment")).toHaveLength(1);
    expect(within(screen.getByTestId("billing-usage-day-2026-05-02")).queryAllByTestId("billing-usage-segment")).toHaveLength(0);
    await userEvent.setup().click(screen.getByTestId("billing-chart-messages"));
    expect(within(screen.getByTestId("billing-usage-day-2026-05-01")).getAllByTestId("billing-usage-segment")).toHaveLength(2);

    expect(screen.getByTestId("billing-status")).toHaveTextContent("Masa coba sampai");
    expect(screen.getByTestId("billing-limit-staff_seats")).toHaveTextContent("2 / 3 kursi staf");
    expect(screen.getByTestId("billing-limit-contact_limit-bar")).toHaveAttribute("data-level", "warn");
    expect(screen.getByTestId("billing-limit-automation_rules")).toHaveTextContent("1 aturan balasan otomatis (tanpa batas)");
    expect(screen.getByTestId("billing-plan-starter")).toHaveTextContent(/Rp\s149\.000 \/ bulan/);
    expect(screen.getByTestId("billing-choose-starter")).toHaveTextContent("Pilih");

    const invoice = await screen.findByTestId("billing-invoice-in_1");
    expect(invoice).toHaveTextContent("WRG-0001");
    expect(invoice).toHaveTextContent("Lunas");
    expect(screen.getByTestId("billing-invoice-link-in_1")).toHaveAttribute("href", "https://pay.example/in_1");
  });

  it("top-up posts the amount in rupiah and the save-card choice, then goes to the checkout page", async () => {
    const { calls } = mockFetch(routes("owner", { "POST /api/billing/top-up/": { body: { url: "http://stripe.test/pay/cs_1" } } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");

    await user.click(await screen.findByTestId("billing-preset-250000"));
    expect(screen.getByTestId("billing-preset-250000")).toHaveAttribute("aria-pressed", "true");
    await user.click(screen.getByTestId("billing-save-card"));
    await user.click(screen.getByTestId("billing-top-up"));

    await waitFor(() => expect(redirectTo).toHaveBeenCalledWith("http://stripe.test/pay/cs_1"));
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/billing/top-up/")?.body).toEqual({ amount: 250000, save_card: true });
  });

  it("a custom top-up amount is read with Indonesian thousands separators; the server's refusal shows under it", async () => {
    const { calls } = mockFetch(
      routes("owner", { "POST /api/billing/top-up/": { status: 400, body: { amount: ["Top up between Rp50.000 and Rp50.000.000."] } } }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");

    const amount = await screen.findByLabelText("Top-up amount");
    await user.clear(amount);
    await user.type(amount, "75.000");
    await user.click(screen.getByTestId("billing-top-up"));

    expect(await screen.findByTestId("amount-error")).toHaveTextContent("Top up between Rp50.000 and Rp50.000.000.");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/billing/top-up/")?.body).toEqual({ amount: 75000, save_card: false });
    expect(redirectTo).not.toHaveBeenCalled();
  });

  it("saving preferences sends the cap as a decimal and shows the server's error under its field", async () => {
    const { calls } = mockFetch(
      routes("owner", {
        "PUT /api/billing/preferences/": { status: 400, body: { auto_recharge: ["Top up once with a card and save it to turn on auto-recharge."] } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");

    await user.type(await screen.findByLabelText(/Monthly WhatsApp spending cap/), "1.000.000");
    await user.click(screen.getByTestId("billing-auto-recharge"));
    await user.type(screen.getByLabelText("Top up when the balance is below"), "50000");
    await user.type(screen.getByLabelText("Automatic top-up amount"), "200000");
    await user.click(screen.getByTestId("billing-preferences-save"));

    expect(await screen.findByTestId("auto_recharge-error")).toHaveTextContent("Top up once with a card and save it to turn on auto-recharge.");
    expect(screen.queryByTestId("billing-preferences-saved")).not.toBeInTheDocument();
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({
      monthly_cap: "1000000",
      auto_recharge: true,
      auto_recharge_below: 50000,
      auto_recharge_amount: 200000,
    });
  });

  it("a saved cap shows how much of it is used, coloured from 80%", async () => {
    mockFetch(
      routes("owner", {
        "PUT /api/billing/preferences/": (call) => ({
          body: overview({ cap: { monthly_cap: (call.body as { monthly_cap: string }).monthly_cap + ".0000", percent: 86 } }),
        }),
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");

    expect(await screen.findByTestId("billing-no-cap")).toBeInTheDocument();
    await user.type(screen.getByLabelText(/Monthly WhatsApp spending cap/), "125000");
    await user.click(screen.getByTestId("billing-preferences-save"));

    expect(await screen.findByTestId("billing-preferences-saved")).toBeInTheDocument();
    expect(screen.getByTestId("billing-cap-percent")).toHaveTextContent("86%");
    expect(screen.getByTestId("billing-cap-bar")).toHaveAttribute("data-level", "warn");
    expect(screen.getByTestId("billing-cap")).toHaveTextContent(/Rp\s108\.346 spent of this month's Rp\s125\.000 cap/);
    expect(screen.getByLabelText(/Monthly WhatsApp spending cap/)).toHaveValue("125.000");
    // The dashboard banner follows the saved state without asking the server again.
    expect(await screen.findByTestId("billing-banner")).toHaveTextContent("86% of the monthly cap");
  });

  it("back from a paid top-up, polls until the webhook has credited the balance, then stops", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    let gets = 0;
    const credited = overview({ balance: { ...overview().balance, balance: "1550000.0000", available: "1500000.0000" } });
    const { calls } = mockFetch(
      routes("owner", {
        "GET /api/billing/": () => {
          gets += 1;
          return { body: gets <= 3 ? overview() : credited }; // banner, page, first poll: not yet credited
        },
      }),
    );
    renderApp(shopConfig({ locale: "en" }), "/settings/billing?topup=done&session=cs_1");

    expect(await screen.findByTestId("billing-arrival")).toHaveTextContent("Payment received");
    expect(screen.getByTestId("billing-balance")).toHaveTextContent(/Rp\s1\.250\.000/);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_EVERY_MS * 2 + 100);
    });
    await waitFor(() => expect(screen.getByTestId("billing-balance")).toHaveTextContent(/Rp\s1\.500\.000/));
    expect(screen.getByTestId("billing-arrival")).toHaveTextContent(/Top-up complete\. Your available balance is now Rp\s1\.500\.000/);

    const polled = calls.filter((c) => c.url === "/api/billing/").length;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_EVERY_MS * 3);
    });
    expect(calls.filter((c) => c.url === "/api/billing/").length).toBe(polled);
  });

  it("gives up polling after about 20 seconds with a notice instead of spinning forever", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { calls } = mockFetch(routes());
    renderApp(shopConfig({ locale: "en" }), "/settings/billing?topup=done");
    await screen.findByTestId("billing-arrival");
    await act(async () => {
      await vi.advanceTimersByTimeAsync(POLL_EVERY_MS * (POLL_ATTEMPTS + 2));
    });
    await waitFor(() => expect(screen.getByTestId("billing-arrival")).toHaveTextContent("still being confirmed"));
    // banner + first load + the polls
    expect(calls.filter((c) => c.url === "/api/billing/").length).toBe(2 + POLL_ATTEMPTS);
    expect(POLL_EVERY_MS * POLL_ATTEMPTS).toBeLessThanOrEqual(21_000);
  });

  it("says the top-up arrived when Stripe's webhook credited it before the customer was back", async () => {
    sessionStorage.setItem("warung.billing.lastSeen", JSON.stringify({ topup: "-1.0000" }));
    const { calls } = mockFetch(routes());
    renderApp(shopConfig({ locale: "en" }), "/settings/billing?topup=done");
    const notice = await screen.findByTestId("billing-arrival");
    await waitFor(() => expect(notice).toHaveTextContent("Top-up complete"));
    expect(calls.filter((c) => c.url === "/api/billing/").length).toBe(2); // banner + page: no polling
  });

  it("choosing a plan goes to its checkout; the portal button opens Stripe's portal", async () => {
    const { calls } = mockFetch(
      routes("owner", {
        "POST /api/billing/subscribe/": { body: { url: "http://stripe.test/checkout/cs_9" } },
        "POST /api/billing/portal/": { body: { url: "http://stripe.test/portal/bps_1" } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");

    await user.click(await screen.findByTestId("billing-choose-growth"));
    await waitFor(() => expect(redirectTo).toHaveBeenCalledWith("http://stripe.test/checkout/cs_9"));
    expect(calls.find((c) => c.url === "/api/billing/subscribe/")?.body).toEqual({ plan: "growth" });
  });

  it("an active subscriber sees the current plan marked and can switch; a portal failure is shown, not thrown", async () => {
    mockFetch(
      routes("owner", {
        "GET /api/billing/": {
          body: overview({
            plan: { ...PLAN, code: "starter", name: "Starter", monthly_price: 149000, staff_seats: 3, contact_limit: 5000, automation_rules: 20, is_trial_plan: false },
            subscription: { status: "active", current_period_end: "2026-06-01T00:00:00Z", cancel_at_period_end: false, trial_ends_at: null },
          }),
        },
        "POST /api/billing/portal/": { status: 400, body: { detail: "Payments are unavailable right now.", code: "invalid" } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");

    expect(await screen.findByTestId("billing-status")).toHaveTextContent("Active · renews 1 Jun 2026");
    expect(screen.getByTestId("billing-choose-starter")).toBeDisabled();
    expect(screen.getByTestId("billing-choose-starter")).toHaveTextContent("Current plan");
    expect(screen.getByTestId("billing-choose-growth")).toHaveTextContent("Switch to this plan");
    await user.click(screen.getByTestId("billing-portal"));
    expect(await screen.findByTestId("billing-plan-error")).toHaveTextContent("Payments are unavailable right now.");
    expect(redirectTo).not.toHaveBeenCalled();
  });

  it("invoices that cannot be loaded show a friendly notice and the rest of the page still works", async () => {
    mockFetch(routes("owner", { "GET /api/billing/invoices/": { status: 400, body: { detail: "Payments are unavailable right now.", code: "invalid" } } }));
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");
    expect(await screen.findByTestId("billing-invoices-unavailable")).toHaveTextContent("Invoices cannot be loaded right now");
    expect(screen.getByTestId("billing-balance")).toBeInTheDocument();
  });

  it("agents get neither the tab nor a request to the billing API", async () => {
    const { calls } = mockFetch(routes("agent"));
    renderApp(shopConfig({ locale: "en" }), "/settings/billing");
    expect(await screen.findByTestId("billing-readonly")).toBeInTheDocument();
    expect(screen.queryByTestId("settings-billing-tab")).not.toBeInTheDocument();
    expect(calls.some((c) => c.url.startsWith("/api/billing/"))).toBe(false);
    expect(screen.queryByTestId("billing-banner")).not.toBeInTheDocument();
  });
});

describe("Billing banner", () => {
  const team = {
    "GET /api/team/members/": { body: [] },
    "GET /api/team/invitations/": { body: [] },
  };

  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("appears on every dashboard page when the shop is read-only, links to billing, and asks once", async () => {
    const readOnly = "Your free trial has ended: choose a plan in Settings > Billing to send messages again.";
    const { calls } = mockFetch(routes("owner", { ...team, "GET /api/billing/": { body: overview({ read_only: readOnly }) } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/team");

    const banner = await screen.findByTestId("billing-banner");
    expect(banner).toHaveTextContent(readOnly);
    expect(banner).toHaveAttribute("role", "alert");
    await user.click(within(banner).getByTestId("billing-banner-link"));
    expect(screen.getByTestId("location")).toHaveTextContent("/settings/billing");
    await screen.findByTestId("billing-balance");
    // The banner's one request plus the billing page's own load; no polling.
    expect(calls.filter((c) => c.url === "/api/billing/").length).toBe(2);
  });

  it("warns about a failed payment and a cap at 80%, and stays away when all is well", async () => {
    mockFetch(
      routes("owner", {
        ...team,
        "GET /api/billing/": { body: overview({ payment_warning: "Your last payment failed. Update your card before 20-05-2026 to keep sending.", cap: { monthly_cap: "100000.0000", percent: 80 } }) },
      }),
    );
    renderApp(shopConfig({ locale: "en" }), "/settings/team");
    const banner = await screen.findByTestId("billing-banner");
    expect(banner).toHaveTextContent("Your last payment failed.");
    expect(banner).toHaveTextContent("at 80% of the monthly cap");
    expect(banner).toHaveAttribute("role", "status");
  });

  it("is not shown when billing is fine", async () => {
    const { calls } = mockFetch(routes("owner", team));
    renderApp(shopConfig({ locale: "en" }), "/settings/team");
    await screen.findByTestId("settings-team-tab");
    await waitFor(() => expect(calls.some((c) => c.url === "/api/billing/")).toBe(true));
    expect(screen.queryByTestId("billing-banner")).not.toBeInTheDocument();
  });
});

describe("billing amounts", () => {
  it("reads typed amounts as minor units without floating point", () => {
    expect(parseAmount("75.000", "IDR")).toBe(75000);
    expect(parseAmount("Rp 1.250.000", "IDR")).toBe(1250000);
    expect(parseAmount("75000", "IDR")).toBe(75000);
    expect(parseAmount("75.5", "IDR")).toBeNull();
    expect(parseAmount("12.5", "USD")).toBe(1250);
    expect(parseAmount("0.29", "USD")).toBe(29);
    expect(parseAmount("abc", "USD")).toBeNull();
    expect(decimalToMinor("813.7800", "IDR")).toBe(814);
    expect(decimalToMinor("100000.0000", "IDR")).toBe(100000);
    expect(decimalToMinor("12.3450", "USD")).toBe(1235);
  });
});
