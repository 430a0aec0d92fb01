import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router-dom";
import { App } from "./App";
import { getConfig } from "./config";
import "./styles.css";

const config = getConfig();
document.title = config.shop?.name ? `${config.shop.name} · Warung CRM` : "Warung CRM";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <BrowserRouter>
      <App config={config} />
    </BrowserRouter>
  </StrictMode>,
);
