import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { Role } from "../../config";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";

const MEMBERS = [
  { id: 10, user_id: 1, name: "Sari Dewi", email: "sari@example.com", role: "owner", joined_at: "2024-01-15T17:30:00Z" },
  { id: 11, user_id: 2, name: "Budi", email: "budi@example.com", role: "agent", joined_at: "2024-02-01T03:00:00Z" },
];
const INVITATIONS = [
  { id: 5, email: "old@example.com", role: "agent", created_at: "2024-03-01T00:00:00Z", expires_at: "2024-03-08T00:00:00Z", accept_url: "http://sari.localhost:8000/invite/old/" },
];

function teamRoutes(role: Role, extra = {}) {
  return {
    "GET /api/auth/session/": { body: sessionBody(role, role === "agent" ? { id: 2, name: "Budi" } : {}) },
    "GET /api/team/members/": { body: MEMBERS },
    "GET /api/team/invitations/": { body: INVITATIONS },
    ...extra,
  };
}

describe("Settings > Team", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("/settings redirects to team; agents see a read-only table without invite form", async () => {
    const { calls } = mockFetch(teamRoutes("agent"));
    renderApp(shopConfig({ locale: "en" }), "/settings");
    expect(await screen.findByTestId("members-table")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/settings/team");
    expect(screen.queryByTestId("invite-form")).not.toBeInTheDocument();
    expect(screen.queryByLabelText("Email")).not.toBeInTheDocument();
    expect(screen.queryByTestId("member-role-11")).not.toBeInTheDocument();
    expect(screen.queryByTestId("member-remove-11")).not.toBeInTheDocument();
    expect(screen.queryByTestId("settings-tokens-tab")).not.toBeInTheDocument();
    expect(screen.getByTestId("team-readonly")).toBeInTheDocument();
    // Joined date shown in the shop's time zone (Jakarta, UTC+7).
    expect(screen.getByTestId("member-row-10")).toHaveTextContent("16 Jan 2024");
    expect(calls.some((c) => c.url === "/api/team/invitations/")).toBe(false);
  });

  it("owners see the invite form (with owner role) and get a copyable accept link", async () => {
    const { calls } = mockFetch(
      teamRoutes("owner", {
        "POST /api/team/invitations/": {
          status: 201,
          body: { id: 6, email: "new@example.com", role: "admin", created_at: "2024-03-02T00:00:00Z", expires_at: "2024-03-09T00:00:00Z", accept_url: "http://sari.localhost:8000/invite/tok6/" },
        },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/team");

    const roleSelect = await screen.findByLabelText("Role");
    expect([...(roleSelect as HTMLSelectElement).options].map((o) => o.value)).toEqual(["owner", "admin", "agent"]);
    expect(screen.getByTestId("invitation-row-5")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Email"), "new@example.com");
    await user.selectOptions(roleSelect, "admin");
    await user.click(screen.getByTestId("invite-submit"));

    expect(await screen.findByTestId("invite-link")).toHaveValue("http://sari.localhost:8000/invite/tok6/");
    expect(screen.getByTestId("invitation-row-6")).toBeInTheDocument();
    const post = calls.find((c) => c.method === "POST" && c.url === "/api/team/invitations/");
    expect(post?.body).toEqual({ email: "new@example.com", role: "admin" });
  });

  it("admins cannot hand out the owner role nor edit owners", async () => {
    mockFetch(teamRoutes("admin"));
    renderApp(shopConfig({ locale: "en" }), "/settings/team");
    const roleSelect = await screen.findByLabelText("Role");
    expect([...(roleSelect as HTMLSelectElement).options].map((o) => o.value)).toEqual(["admin", "agent"]);
    expect(screen.queryByTestId("member-role-10")).not.toBeInTheDocument();
    expect(screen.getByTestId("member-role-11")).toBeInTheDocument();
  });

  it("changes roles with PATCH, shows backend detail errors, removes members after confirm", async () => {
    const { calls } = mockFetch(
      teamRoutes("owner", {
        "PATCH /api/team/members/10/": { status: 400, body: { detail: "A shop must keep at least one owner." } },
        "PATCH /api/team/members/11/": { body: { ...MEMBERS[1], role: "admin" } },
        "DELETE /api/team/members/11/": { status: 204 },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/team");

    await user.selectOptions(await screen.findByTestId("member-role-10"), "agent");
    expect(await screen.findByTestId("team-error")).toHaveTextContent("A shop must keep at least one owner.");
    expect(screen.getByTestId("member-role-10")).toHaveValue("owner");

    await user.selectOptions(screen.getByTestId("member-role-11"), "admin");
    await waitFor(() => expect(screen.getByTestId("member-role-11")).toHaveValue("admin"));
    expect(calls.find((c) => c.method === "PATCH" && c.url === "/api/team/members/11/")?.body).toEqual({ role: "admin" });

    const confirm = vi.spyOn(window, "confirm").mockReturnValue(true);
    await user.click(screen.getByTestId("member-remove-11"));
    expect(confirm).toHaveBeenCalled();
    await waitFor(() => expect(screen.queryByTestId("member-row-11")).not.toBeInTheDocument());
  });

  it("revokes a pending invitation", async () => {
    const { calls } = mockFetch(teamRoutes("owner", { "DELETE /api/team/invitations/5/": { status: 204 } }));
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/team");
    await user.click(await screen.findByTestId("invitation-revoke-5"));
    await waitFor(() => expect(screen.queryByTestId("invitation-row-5")).not.toBeInTheDocument());
    expect(calls.some((c) => c.method === "DELETE" && c.url === "/api/team/invitations/5/")).toBe(true);
  });
});

describe("Settings > API tokens", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("creates a token and shows the secret once; revokes tokens", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "GET /api/tokens/": { body: [{ id: 1, name: "Old", prefix: "wc_ab12", scopes: ["contacts:read"], created_at: "2024-01-01T00:00:00Z", last_used_at: null, created_by_name: "Sari Dewi" }] },
      "GET /api/tokens/scopes/": { body: [
        { area: "contacts", label: "Contacts", read: "contacts:read", write: "contacts:write" },
        { area: "messages", label: "Inbox", read: "messages:read", write: "messages:send" },
        { area: "analytics", label: "Analytics", read: "analytics:read", write: null },
      ] },
      "POST /api/tokens/": { status: 201, body: { id: 2, name: "Website", prefix: "wc_cd34", scopes: ["contacts:write", "messages:read"], created_at: "2024-04-01T00:00:00Z", last_used_at: null, created_by_name: "Sari Dewi", token: "wc_cd34.supersecret" } },
      "DELETE /api/tokens/1/": { status: 204 },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/tokens");

    expect(await screen.findByTestId("token-row-1")).toHaveTextContent("Never");
    expect(screen.getByTestId("token-scopes-1")).toHaveTextContent("contacts:read");
    await user.type(screen.getByLabelText("Token name"), "Website");
    await user.selectOptions(await screen.findByTestId("token-scope-contacts"), "contacts:write");
    await user.selectOptions(screen.getByTestId("token-scope-messages"), "messages:read");
    expect(screen.getByTestId("token-scope-messages")).toHaveTextContent("Read & send");
    expect(screen.getByTestId("token-scope-analytics")).not.toHaveTextContent("Read & write");
    await user.click(screen.getByTestId("token-create"));
    expect(await screen.findByTestId("token-secret")).toHaveValue("wc_cd34.supersecret");
    expect(screen.getByText(/shown only once/)).toBeInTheDocument();
    expect(screen.getByTestId("token-row-2")).toHaveTextContent("Website");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ name: "Website", scopes: ["contacts:write", "messages:read"] });
    expect(screen.getByTestId("token-scopes-2")).toHaveTextContent("contacts:write, messages:read");

    vi.spyOn(window, "confirm").mockReturnValue(true);
    await user.click(screen.getByTestId("token-revoke-1"));
    await waitFor(() => expect(screen.queryByTestId("token-row-1")).not.toBeInTheDocument());
  });
});
