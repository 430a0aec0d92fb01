import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";

const NOT_LOGGED_IN = { status: 403, body: { detail: "Authentication credentials were not provided.", code: "not_authenticated" } };

describe("shop auth flows", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("redirects to /login when there is no session, logs in and lands on the inbox", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": NOT_LOGGED_IN,
      "POST /api/auth/login/": { body: sessionBody("admin", { name: "Budi" }) },
    });
    const user = userEvent.setup();
    renderApp(shopConfig(), "/orders");

    expect(await screen.findByTestId("login-submit")).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/login");
    expect(screen.getByText("Masuk ke Toko Sari")).toBeInTheDocument();

    await user.type(screen.getByLabelText("Email"), "budi@example.com");
    await user.type(screen.getByLabelText("Kata sandi"), "pw");
    await user.click(screen.getByTestId("login-submit"));

    // Goes back to the page that was asked for.
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/orders"));
    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Pesanan");
    expect(screen.getByTestId("user-name")).toHaveTextContent("Budi");
    expect(screen.getByTestId("user-role")).toHaveTextContent("Admin");
    expect(calls.find((c) => c.url === "/api/auth/login/")?.body).toEqual({ email: "budi@example.com", password: "pw" });
  });

  it("shows the throttle message on 429 and field errors on 400", async () => {
    let attempt = 0;
    mockFetch({
      "GET /api/auth/session/": NOT_LOGGED_IN,
      "POST /api/auth/login/": () =>
        ++attempt === 1
          ? { status: 400, body: { password: ["This field may not be blank."] } }
          : { status: 429, body: { detail: "Request was throttled. Expected available in 58 seconds." } },
    });
    const user = userEvent.setup();
    renderApp(shopConfig(), "/login");
    await user.type(await screen.findByLabelText("Email"), "a@b.c");
    await user.click(screen.getByTestId("login-submit"));
    expect(await screen.findByTestId("password-error")).toHaveTextContent("This field may not be blank.");

    await user.click(screen.getByTestId("login-submit"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Request was throttled. Expected available in 58 seconds.");
  });

  it("dashboard has all nav links, / goes to /inbox, and logout returns to /login", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": { body: sessionBody("owner") },
      "POST /api/auth/logout/": { status: 204 },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/");

    expect(await screen.findByRole("heading", { level: 1, name: "Inbox" })).toBeInTheDocument();
    expect(screen.getByTestId("location")).toHaveTextContent("/inbox");
    expect(screen.getByTestId("shop-name")).toHaveTextContent("Toko Sari");
    const nav = screen.getByRole("navigation", { name: "Main navigation" });
    const hrefs = within(nav)
      .getAllByRole("link")
      .map((a) => a.getAttribute("href"));
    expect(hrefs).toEqual(["/inbox", "/contacts", "/orders", "/pipeline", "/broadcasts", "/analytics", "/settings"]);

    await user.click(screen.getByTestId("logout"));
    await waitFor(() => expect(screen.getByTestId("location")).toHaveTextContent("/login"));
    expect(calls.some((c) => c.method === "POST" && c.url === "/api/auth/logout/" && c.headers["X-CSRFToken"] === "tok")).toBe(true);
  });

  it("forgot password always shows the neutral confirmation", async () => {
    mockFetch({ "GET /api/auth/session/": NOT_LOGGED_IN, "POST /api/auth/password-reset/": { body: {} } });
    const user = userEvent.setup();
    renderApp(shopConfig(), "/login");
    await user.click(await screen.findByText("Lupa kata sandi?"));
    await user.type(screen.getByLabelText("Email"), "x@y.z");
    await user.click(screen.getByTestId("forgot-submit"));
    expect(await screen.findByTestId("forgot-sent")).toHaveTextContent("Jika alamat tersebut terdaftar");
  });

  it("reset password posts uid/token and goes to /login with a success message", async () => {
    const { calls } = mockFetch({
      "GET /api/auth/session/": NOT_LOGGED_IN,
      "POST /api/auth/password-reset/confirm/": { body: {} },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/reset-password/MQ/abc-123");
    await user.type(await screen.findByLabelText("New password"), "n3w-passw0rd");
    await user.click(screen.getByTestId("reset-submit"));
    expect(await screen.findByTestId("login-flash")).toHaveTextContent("Your password has been changed");
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ uid: "MQ", token: "abc-123", new_password: "n3w-passw0rd" });
  });

  it("invitation: 404 shows invalid; valid one can be accepted and lands in the inbox", async () => {
    mockFetch({ "GET /api/auth/session/": NOT_LOGGED_IN });
    const first = renderApp(shopConfig({ locale: "en" }), "/invite/bad");
    expect(await screen.findByTestId("invite-invalid")).toHaveTextContent("invalid or has expired");
    first.unmount();

    let loggedIn = false;
    const { calls } = mockFetch({
      "GET /api/auth/session/": () => (loggedIn ? { body: sessionBody("agent", { name: "Rina" }) } : NOT_LOGGED_IN),
      "GET /api/invitations/good/": { body: { shop_name: "Toko Sari", email: "rina@example.com", role: "agent" } },
      "POST /api/invitations/good/accept/": () => {
        loggedIn = true;
        return { body: sessionBody("agent", { name: "Rina" }) };
      },
    });
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/invite/good");
    expect(await screen.findByText("You have been invited to Toko Sari as Agent.")).toBeInTheDocument();
    await user.type(screen.getByLabelText("Your name"), "Rina");
    await user.type(screen.getByLabelText("Password"), "secret-pw");
    await user.click(screen.getByTestId("invite-accept"));

    expect(await screen.findByRole("heading", { level: 1, name: "Inbox" })).toBeInTheDocument();
    expect(screen.getByTestId("user-name")).toHaveTextContent("Rina");
    expect(calls.find((c) => c.url === "/api/invitations/good/accept/")?.body).toEqual({ name: "Rina", password: "secret-pw" });
  });
});

describe("suspended shop", () => {
  it("shows the suspended page when an API call answers 403 shop_suspended", async () => {
    mockFetch({ "GET /api/auth/session/": { status: 403, body: { detail: "Langganan berakhir.", code: "shop_suspended" } } });
    renderApp(shopConfig(), "/inbox");
    const page = await screen.findByTestId("suspended");
    expect(page).toHaveTextContent("Toko ini ditangguhkan");
    expect(page).toHaveTextContent("Langganan berakhir.");
  });

  it("shows the suspended page straight away when the config says so", () => {
    mockFetch({});
    renderApp(shopConfig({ status: "suspended", locale: "en" }), "/login");
    expect(screen.getByTestId("suspended")).toHaveTextContent("This shop is suspended");
  });
});
