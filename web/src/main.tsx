import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { loadPage, pageOf } from "./pages";
import { parseRoute } from "./route";
import "./styles.css";
import { adoptTokenFromAddress } from "./token";

adoptTokenFromAddress();
// the page the address names is loaded first, so it draws with the frame (a failure to load
// it is shown by the page itself, which tries again)
const first = pageOf(parseRoute(window.location.hash));
(first ? loadPage(first).catch(() => undefined) : Promise.resolve()).then(() =>
  createRoot(document.getElementById("root")!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  ),
);
