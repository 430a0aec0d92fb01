import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { shiftYmd, todayYmd } from "../../format";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";

const kpi = (value: number | string | null, previous: number | string | null) => ({ value, previous });

const DATA = {
  from: "2024-04-02",
  to: "2024-05-01",
  previous_from: "2024-03-03",
  previous_to: "2024-04-01",
  kpis: {
    new_contacts: kpi(30, 30),
    active_customers: kpi(20, 16),
    passive_customers: kpi(5, 4),
    orders: kpi(8, 10),
    revenue: kpi(1500000, 1000000),
    average_order_value: kpi(187500, 100000),
    repeat_purchase_rate: kpi("0.2500", "0.2000"),
    closing_rate: kpi("0.4000", null),
    messages_in: kpi(120, 100),
    messages_out: kpi(140, 0),
  },
  first_response: { human: { p50_seconds: 120, p90_seconds: 5400, count: 40 }, automated: { p50_seconds: 2, p90_seconds: 3, count: 60 } },
  top_products: [{ product_id: 1, name: "Kaos Polos", quantity: 12, revenue: 1800000 }],
  top_customers: [{ contact_id: 12, name: "Sari", orders: 3, revenue: 450000 }],
  trend: [
    { date: "2024-04-29", orders: 2, revenue: 300000 },
    { date: "2024-04-30", orders: 5, revenue: 900000 },
    { date: "2024-05-01", orders: 1, revenue: 300000 },
  ],
  bucket: "day",
  funnel: [
    { stage_id: 1, name: "Tanya-tanya", reached: 10, conversion_from_previous: null },
    { stage_id: 2, name: "Berhasil", reached: 4, conversion_from_previous: "0.4000" },
  ],
};

describe("Analytics", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("renders KPI cards with the change vs the previous period, an SVG trend chart, funnel, tables and response times", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/crm/analytics/": { body: DATA },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/analytics");

    const revenue = await screen.findByTestId("kpi-revenue");
    expect(revenue.textContent?.replace(/\s/g, " ")).toContain("Rp 1.500.000");
    expect(screen.getByTestId("kpi-revenue-change")).toHaveTextContent("▲ 50%");
    expect(screen.getByTestId("kpi-revenue-change")).toHaveAttribute("data-direction", "up");
    expect(screen.getByTestId("kpi-orders-change")).toHaveTextContent("▼ 20%");
    expect(screen.getByTestId("kpi-orders-change")).toHaveAttribute("data-direction", "down");
    expect(screen.getByTestId("kpi-repeat_purchase_rate-value")).toHaveTextContent("25%");
    expect(screen.getByTestId("kpi-closing_rate-change")).toHaveTextContent("—");
    expect(screen.getByTestId("kpi-messages_out-change")).toHaveTextContent("—");

    const chart = screen.getByTestId("analytics-trend-chart");
    expect(chart.tagName.toLowerCase()).toBe("svg");
    expect(within(chart as unknown as HTMLElement).getAllByTestId("trend-bar")).toHaveLength(3);
    expect(chart.querySelector("path.chart-line")).not.toBeNull();

    expect(screen.getByTestId("analytics-funnel")).toHaveTextContent("Berhasil");
    expect(screen.getByTestId("analytics-top-products")).toHaveTextContent("Kaos Polos");
    expect(screen.getByTestId("analytics-top-customers")).toHaveTextContent("Sari");
    expect(screen.getByTestId("first-response-human")).toHaveTextContent("2 min");
    expect(screen.getByTestId("first-response-human")).toHaveTextContent("1 h 30 min");
    expect(screen.getByTestId("first-response-automated")).toHaveTextContent("2 s");

    const today = todayYmd("Asia/Jakarta");
    expect(calls.some((c) => c.url === `/api/crm/analytics/?from=${shiftYmd(today, -29)}&to=${today}`)).toBe(true);
    expect(screen.getByTestId("analytics-export-top-products")).toHaveAttribute("href", `/api/crm/analytics/export/top_products/?from=${shiftYmd(today, -29)}&to=${today}`);

    await user.selectOptions(screen.getByTestId("analytics-period"), "7");
    await waitFor(() => expect(calls.some((c) => c.url === `/api/crm/analytics/?from=${shiftYmd(today, -6)}&to=${today}`)).toBe(true));
  });
});
