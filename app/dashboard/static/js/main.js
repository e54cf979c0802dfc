// Boot, the page frame, and which page a URL shows.
import { html, render, useEffect, useState } from "../vendor/htm-preact-standalone.module.js";
import { BASE, navigate, usePagePath } from "./router.js";
import { isSignedIn, onSessionChange, request, resume, signOut } from "./api.js";
import { ErrorText, fullName } from "./ui.js";
import { AcceptInvitationPage, ForgotPasswordPage, ResetPasswordPage, SignInPage } from "./pages/public.js";
import { ApiKeysPage } from "./pages/api_keys.js";
import { ApplicationsPage } from "./pages/applications.js";
import { UsersPage } from "./pages/users.js";
import { UserPage } from "./pages/user.js";
import { AuditPage } from "./pages/audit.js";
import { AccountPage } from "./pages/account.js";
import { TeamPage } from "./pages/team.js";
import { ApiKeyUsagePage, UsagePage } from "./pages/usage.js";

const NAVIGATION = [
  ["/api-keys", "API keys"],
  ["/applications", "Applications"],
  ["/users", "Users"],
  ["/usage", "Usage"],
  ["/audit", "Audit log"],
  ["/account", "Account"],
  ["/team", "Team"],
];
const PUBLIC_PAGES = {
  "/sign-in": SignInPage,
  "/forgot-password": ForgotPasswordPage,
  "/reset-password": ResetPasswordPage,
  "/accept-invitation": AcceptInvitationPage,
};

function privatePage(path, me) {
  const userMatch = path.match(/^\/users\/([^/]+)$/);
  if (userMatch) return html`<${UserPage} userId=${decodeURIComponent(userMatch[1])} />`;
  const keyUsageMatch = path.match(/^\/api-keys\/([^/]+)\/usage$/);
  if (keyUsageMatch) return html`<${ApiKeyUsagePage} keyId=${decodeURIComponent(keyUsageMatch[1])} />`;
  switch (path) {
    case "/":
    case "/api-keys":
      return html`<${ApiKeysPage} me=${me} />`;
    case "/applications":
      return html`<${ApplicationsPage} />`;
    case "/users":
      return html`<${UsersPage} />`;
    case "/usage":
      return html`<${UsagePage} />`;
    case "/audit":
      return html`<${AuditPage} me=${me} />`;
    case "/account":
      return html`<${AccountPage} me=${me} />`;
    case "/team":
      return html`<${TeamPage} me=${me} />`;
    default:
      return html`<h1>Page not found</h1><p>There is no dashboard page at this address. <a href="/dashboard">Go to API keys</a>.</p>`;
  }
}

function Frame({ path, me, children }) {
  const [error, setError] = useState(null);
  const current = path === "/" ? "/api-keys" : path;
  const leave = async () => {
    setError(null);
    try {
      await signOut();
      navigate("/sign-in");
    } catch (caught) {
      setError(caught);
    }
  };
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/dashboard">Open Wearables</a>
      <nav aria-label="Dashboard">
        <ul>
          ${NAVIGATION.map(
            ([target, label]) => html`<li><a href=${BASE + target}
              aria-current=${current === target || current.startsWith(`${target}/`) ? "page" : undefined}>${label}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <span>${me ? fullName(me) : ""}</span>
        <button type="button" onClick=${leave}>Sign out</button>
        <${ErrorText} error=${error} />
      </div>
    </header>
    <main id="main" tabindex="-1">${children}</main>`;
}

function App() {
  const path = usePagePath();
  const [state, setState] = useState({ phase: "starting", message: null, error: null });
  const [me, setMe] = useState(null);

  useEffect(() => {
    const stop = onSessionChange(({ signedIn, message }) =>
      setState({ phase: signedIn ? "signed-in" : "signed-out", message, error: null }),
    );
    resume().then(
      (signedIn) => setState({ phase: signedIn ? "signed-in" : "signed-out", message: null, error: null }),
      (error) => setState({ phase: "signed-out", message: null, error }),
    );
    return stop;
  }, []);

  useEffect(() => {
    if (state.phase !== "signed-in") return;
    request("/api/v1/auth/me").then(setMe, () => setMe(null));
  }, [state.phase]);

  useEffect(() => {
    const main = document.getElementById("main");
    if (main && state.phase !== "starting") main.focus({ preventScroll: true });
    document.title = `${document.querySelector("h1")?.textContent || "Dashboard"} · Open Wearables`;
  }, [path, state.phase]);

  if (state.phase === "starting") return html`<p class="loading" role="status">Loading…</p>`;

  const PublicPage = PUBLIC_PAGES[path];
  if (PublicPage && !(path === "/sign-in" && isSignedIn())) {
    return html`<main id="main" class="narrow" tabindex="-1"><${PublicPage} message=${state.message} /></main>`;
  }
  if (state.phase !== "signed-in") {
    return html`<main id="main" class="narrow" tabindex="-1">
      <${ErrorText} error=${state.error} />
      <${SignInPage} message=${state.message} />
    </main>`;
  }
  return html`<${Frame} path=${path === "/sign-in" ? "/" : path} me=${me}>
    ${privatePage(path === "/sign-in" ? "/" : path, me)}
  <//>`;
}

render(html`<${App} />`, document.getElementById("app"));
