import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { RuleGroup } from "../../api";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";

describe("Segments", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("builds nested rules JSON, shows the live count and saves", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/crm/segments/": { body: [] },
      "GET /api/crm/segments/builtin/": {
        body: [
          { key: "rfm:champions", name: "Champions", count: 12 },
          { key: "active", name: "Active", count: 40 },
        ],
      },
      "GET /api/crm/labels/": { body: [{ id: 7, name: "VIP", color: "#f59e0b" }] },
      "GET /api/crm/attributes/": { body: [{ id: 1, key: "size", label: "Size", type: "choice", choices: ["S", "M", "L"] }] },
      "GET /api/crm/products/": { body: { results: [], next_cursor: null } },
      "POST /api/crm/segments/preview/": (call) => ({ body: { count: 40 + JSON.stringify(call.body).length % 7 } }),
      "POST /api/crm/segments/": (call) => ({ status: 201, body: { id: 5, ...(call.body as object), count: 3 } }),
      "GET /api/crm/segments/5/contacts/": { body: { results: [], next_cursor: null } },
      "POST /api/crm/rfm/refresh/": { body: { refreshed: 120, at: "2024-05-01T03:00:00Z" } },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/contacts/segments");

    expect(await screen.findByTestId("builtin-rfm:champions")).toHaveTextContent("Champions");
    expect(screen.getByTestId("builtin-rfm:champions")).toHaveTextContent("12");
    expect(screen.getByTestId("segments-list")).toBeInTheDocument();

    await user.type(screen.getByTestId("segment-name"), "VIP Jakarta");
    await user.click(screen.getByTestId("rule-add"));
    await user.selectOptions(screen.getByTestId("rule-value-0"), "7");

    await user.click(screen.getByTestId("group-add"));
    await user.selectOptions(screen.getByTestId("rule-field-1"), "city");
    await user.selectOptions(screen.getByTestId("rule-operator-1"), "contains");
    await user.type(screen.getByTestId("rule-value-1"), "Jakarta");

    await user.click(screen.getByTestId("rule-add-0-1"));
    await user.selectOptions(screen.getByTestId("rule-field-2"), "total_spent");
    await user.selectOptions(screen.getByTestId("rule-operator-2"), "between");
    await user.type(screen.getByTestId("rule-value-2"), "100000");
    await user.type(screen.getByTestId("rule-value-2-max"), "500000");
    await user.click(screen.getByTestId("group-op-0-1"));

    await user.click(screen.getByTestId("rule-add"));
    await user.selectOptions(screen.getByTestId("rule-field-3"), "attribute:size");
    await user.selectOptions(screen.getByTestId("rule-operator-3"), "in");
    await user.selectOptions(screen.getByTestId("rule-value-3"), ["M", "L"]);

    const expected: RuleGroup = {
      op: "and",
      rules: [
        { field: "label", operator: "has", value: 7 },
        {
          op: "or",
          rules: [
            { field: "city", operator: "contains", value: "Jakarta" },
            { field: "total_spent", operator: "between", value: [100000, 500000] },
          ],
        },
        { field: "attribute:size", operator: "in", value: ["M", "L"] },
      ],
    };
    expect(screen.getByTestId("group-op-0-1")).toHaveAttribute("data-op", "or");
    expect(screen.getByTestId("group-op-0")).toHaveAttribute("data-op", "and");

    // Debounced preview with the final rules; the count is shown.
    const expectedCount = String(40 + (JSON.stringify({ rules: expected }).length % 7));
    await waitFor(() => expect(screen.getByTestId("segment-count")).toHaveTextContent(expectedCount));
    const previews = calls.filter((c) => c.url === "/api/crm/segments/preview/");
    expect(previews[previews.length - 1].body).toEqual({ rules: expected });
    // Debounced: far fewer preview calls than edits.
    expect(previews.length).toBeLessThan(8);

    await user.click(screen.getByTestId("segment-save"));
    expect(await screen.findByTestId("segment-item-5")).toHaveTextContent("VIP Jakarta");
    expect(calls.find((c) => c.method === "POST" && c.url === "/api/crm/segments/")?.body).toEqual({ name: "VIP Jakarta", rules: expected });
    expect(screen.getByTestId("segment-export")).toHaveAttribute("href", "/api/crm/segments/5/export/");

    await user.click(screen.getByTestId("rfm-refresh"));
    expect(await screen.findByTestId("rfm-result")).toHaveTextContent("120 contacts refreshed");
  });
});
