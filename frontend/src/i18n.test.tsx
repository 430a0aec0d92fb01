import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { dictionaries, initialLang, LANG_STORAGE_KEY } from "./i18n";
import { mockFetch, portalConfig, renderApp, SHOP, shopConfig } from "./test/utils";

describe("i18n", () => {
  it("switching language re-renders the text, persists it and sets <html lang>", async () => {
    mockFetch({});
    const user = userEvent.setup();
    renderApp(portalConfig, "/signup");

    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Buat toko Anda");
    expect(document.documentElement.lang).toBe("id");

    await user.selectOptions(screen.getByTestId("lang-switch"), "en");

    expect(screen.getByRole("heading", { level: 1 })).toHaveTextContent("Create your shop");
    expect(screen.getByLabelText("Shop name")).toBeInTheDocument();
    expect(screen.getByTestId("signup-submit")).toHaveTextContent("Create shop");
    expect(window.localStorage.getItem(LANG_STORAGE_KEY)).toBe("en");
    expect(document.documentElement.lang).toBe("en");
  });

  it("picks the initial language from localStorage, then the shop locale, then id", () => {
    expect(initialLang(null)).toBe("id");
    expect(initialLang(shopConfig({ locale: "en" }))).toBe("en");
    window.localStorage.setItem(LANG_STORAGE_KEY, "id");
    expect(initialLang(shopConfig({ locale: "en" }))).toBe("id");
    window.localStorage.setItem(LANG_STORAGE_KEY, "xx");
    expect(initialLang({ shop: SHOP })).toBe("id");
  });

  it("has every key translated in both languages", () => {
    const idKeys = Object.keys(dictionaries.id).sort();
    expect(Object.keys(dictionaries.en).sort()).toEqual(idKeys);
    for (const lang of ["id", "en"] as const) {
      for (const key of idKeys) expect(dictionaries[lang][key as keyof typeof dictionaries.id].trim()).not.toBe("");
    }
  });
});
