import { useEffect, useState, type ReactNode } from "react";
import { onShopSuspended } from "./api";
import { SuspendedPage } from "./components/SuspendedPage";
import { ConfigContext, type WarungConfig } from "./config";
import { I18nProvider, initialLang } from "./i18n";
import { PortalRoutes } from "./pages/portal/PortalRoutes";
import { ShopRoutes } from "./pages/ShopRoutes";
import { SessionProvider } from "./session";

/** Shows the full-page suspended message when the shop is suspended or any API call says so. */
function SuspendedGate({ config, children }: { config: WarungConfig; children: ReactNode }) {
  const [suspended, setSuspended] = useState<{ detail: string | null } | null>(config.shop?.status === "suspended" ? { detail: null } : null);
  useEffect(() => onShopSuspended((detail) => setSuspended({ detail })), []);
  if (suspended) return <SuspendedPage detail={suspended.detail} shopName={config.shop?.name} />;
  return <>{children}</>;
}

/** The whole app; expects to be rendered inside a router (BrowserRouter in main.tsx, MemoryRouter in tests). */
export function App({ config }: { config: WarungConfig }) {
  return (
    <ConfigContext.Provider value={config}>
      <I18nProvider initial={initialLang(config)}>
        <SuspendedGate config={config}>
          {config.mode === "shop" ? (
            <SessionProvider>
              <ShopRoutes />
            </SessionProvider>
          ) : (
            <PortalRoutes />
          )}
        </SuspendedGate>
      </I18nProvider>
    </ConfigContext.Provider>
  );
}
