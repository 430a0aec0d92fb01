import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it } from "vitest";
import type { Role } from "../../config";
import { mockFetch, renderApp, sessionBody, shopConfig } from "../../test/utils";
import { normaliseStopWord } from "./OptOutPage";

const CONSENT = {
  stop_words: ["jangan kirim"],
  confirmation: "",
  built_in_words: ["berhenti", "berhenti langganan", "stop", "stop promosi", "unsubscribe"],
};

function routes(role: Role, extra = {}) {
  return {
    "GET /api/auth/session/": { body: sessionBody(role) },
    "GET /api/broadcasts/consent/": { body: CONSENT },
    ...extra,
  };
}

describe("Settings > Opt-out", () => {
  beforeEach(() => {
    document.cookie = "csrftoken=tok; path=/";
  });

  it("shows the built-in words read-only and saves the shop's own words and confirmation", async () => {
    const { calls } = mockFetch(
      routes("owner", {
        "PUT /api/broadcasts/consent/": {
          body: { ...CONSENT, stop_words: ["tidak mau promo"], confirmation: "Baik Kak, tidak ada promo lagi ya." },
        },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig({ locale: "en" }), "/settings/opt-out");

    const builtIn = await screen.findByTestId("optout-builtin");
    expect(builtIn).toHaveTextContent("stop");
    expect(builtIn).toHaveTextContent("berhenti");
    expect(within(builtIn).queryAllByRole("button")).toHaveLength(0);
    expect(screen.getByTestId("settings-opt-out-tab")).toHaveTextContent("Opt-out");
    expect(screen.getByTestId("optout-word-jangan kirim")).toBeInTheDocument();
    expect(screen.getByText("Leave it empty to send the default message in the shop's language.")).toBeInTheDocument();

    // A built-in word is refused; a new one is added as the server will compare it.
    await user.type(screen.getByTestId("optout-word-input"), "Berhenti!{Enter}");
    expect(screen.getByTestId("optout-word-error")).toHaveTextContent("This word is already built in.");
    await user.clear(screen.getByTestId("optout-word-input"));
    await user.type(screen.getByTestId("optout-word-input"), "  Tidak   Mau Promo! ");
    await user.click(screen.getByTestId("optout-word-add"));
    expect(screen.getByTestId("optout-word-tidak mau promo")).toBeInTheDocument();
    expect(screen.queryByTestId("optout-word-error")).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Remove the word jangan kirim" }));
    expect(screen.queryByTestId("optout-word-jangan kirim")).not.toBeInTheDocument();

    await user.type(screen.getByTestId("optout-confirmation"), "Baik Kak, tidak ada promo lagi ya.");
    await user.click(screen.getByTestId("optout-save"));

    expect(await screen.findByTestId("optout-saved")).toHaveTextContent("Opt-out settings saved.");
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({ stop_words: ["tidak mau promo"], confirmation: "Baik Kak, tidak ada promo lagi ya." });
    expect(screen.getByTestId("optout-confirmation")).toHaveValue("Baik Kak, tidak ada promo lagi ya.");
  });

  it("an agent may look, but saving shows the server's refusal (in Indonesian by default)", async () => {
    const { calls } = mockFetch(
      routes("agent", {
        "PUT /api/broadcasts/consent/": { status: 403, body: { detail: "Hanya pemilik dan admin toko yang bisa melakukan ini." } },
      }),
    );
    const user = userEvent.setup();
    renderApp(shopConfig(), "/settings/opt-out");

    expect(await screen.findByTestId("settings-opt-out-tab")).toHaveTextContent("Berhenti langganan");
    await user.type(await screen.findByTestId("optout-word-input"), "cukup");
    // A word typed but not added yet is saved with the rest.
    await user.click(screen.getByTestId("optout-save"));

    expect(await screen.findByTestId("error-alert")).toHaveTextContent("Hanya pemilik dan admin toko yang bisa melakukan ini.");
    expect(calls.find((c) => c.method === "PUT")?.body).toEqual({ stop_words: ["jangan kirim", "cukup"], confirmation: "" });
    await waitFor(() => expect(screen.getByTestId("optout-save")).toBeEnabled());
    expect(screen.queryByTestId("optout-saved")).not.toBeInTheDocument();
  });

  it("compares words as the server does: case, spaces and a trailing ! or . do not matter", () => {
    expect(normaliseStopWord("  STOP   Promo!! ")).toBe("stop promo");
    expect(normaliseStopWord("ＳＴＯＰ.")).toBe("stop");
    expect(normaliseStopWord(" ! ")).toBe("");
  });
});
