// The dashboard's API client. The access token lives in this module's memory only;
// the refresh token is the HttpOnly cookie `ow_refresh_token`, which no script can read.
//
// Refresh tokens are single-use and presenting a used one revokes the whole session,
// while every tab of this origin sends the same cookie. So at most one refresh runs at a
// time across all tabs (Web Locks), and the tab that refreshed shares the new access
// token with the others (BroadcastChannel), which then have no reason to refresh.

const LOCK_NAME = "owa-dashboard-refresh";
const CHANNEL_NAME = "owa-dashboard-session";
const ASK_TIMEOUT_MS = 150;
const RETRY_AFTER_NETWORK_ERROR_MS = 5000;
export const SESSION_ENDED = "Your session has ended. Please sign in again.";

const channel = new BroadcastChannel(CHANNEL_NAME);
// Web Locks exist only in secure contexts (HTTPS, or localhost): served over plain HTTP
// elsewhere, tabs cannot take turns and only this tab's own refreshes are serialised.
const withRefreshLock = navigator.locks
  ? (task) => navigator.locks.request(LOCK_NAME, task)
  : (task) => task();
let session = null; // { token, expiresAt (epoch ms), lifetime (ms) }
let refreshTimer = null;
let inflightRefresh = null;
const sessionListeners = new Set();

export class ApiError extends Error {
  constructor(status, detail, { errors = null, retryAfter = null } = {}) {
    super(detail);
    this.status = status;
    this.errors = errors;
    this.retryAfter = retryAfter;
  }

  /** The sentence to show next to whatever caused the error. */
  get sentence() {
    if (this.status === 429 && this.retryAfter !== null) {
      const detail = /[.!?]$/.test(this.message) ? this.message : `${this.message}.`;
      return `${detail} Try again in ${this.retryAfter} second${this.retryAfter === 1 ? "" : "s"}.`;
    }
    return this.message;
  }

  fieldError(field) {
    return this.errors && this.errors[field] ? this.errors[field].join(" ") : null;
  }
}

/** Called with `{ signedIn, message }` whenever this tab's session starts or ends. */
export function onSessionChange(listener) {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

function notify(signedIn, message = null) {
  for (const listener of sessionListeners) listener({ signedIn, message });
}

// Refresh once a quarter of the lifetime is left (at most a minute before expiry), so a
// slow network or a busy tab still refreshes before the token dies.
function margin(lifetime) {
  return Math.min(60_000, Math.max(1_000, lifetime / 4));
}

function isFresh(candidate) {
  return candidate !== null && candidate.expiresAt - Date.now() > margin(candidate.lifetime);
}

function adopt(next, { share }) {
  const wasSignedIn = session !== null;
  session = next;
  clearTimeout(refreshTimer);
  const delay = Math.max(0, next.expiresAt - margin(next.lifetime) - Date.now());
  refreshTimer = setTimeout(refreshInBackground, delay);
  if (share) channel.postMessage({ type: "session", session: next });
  if (!wasSignedIn) notify(true);
}

function fromTokenResponse(body) {
  const lifetime = body.expires_in * 1000;
  return { token: body.access_token, expiresAt: Date.now() + lifetime, lifetime };
}

function endSession(message, { share }) {
  const wasSignedIn = session !== null;
  session = null;
  clearTimeout(refreshTimer);
  if (share) channel.postMessage({ type: "signed-out", message });
  if (wasSignedIn || message) notify(false, message);
}

channel.addEventListener("message", ({ data }) => {
  if (data.type === "session") {
    if (session === null || data.session.expiresAt > session.expiresAt) {
      adopt(data.session, { share: false });
    }
  } else if (data.type === "signed-out") {
    endSession(data.message, { share: false });
  } else if (data.type === "ask" && session !== null) {
    channel.postMessage({ type: "session", session });
  }
});

async function errorFrom(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // A proxy's HTML error page: the status line is all we have.
  }
  const retryAfter = response.headers.get("Retry-After");
  return new ApiError(response.status, body.detail || `The server answered ${response.status}.`, {
    errors: body.errors || null,
    retryAfter: retryAfter === null ? null : Number(retryAfter),
  });
}

async function send(url, options) {
  try {
    return await fetch(url, { credentials: "same-origin", ...options });
  } catch {
    throw new ApiError(0, "Could not reach the server. Check your connection and try again.");
  }
}

/**
 * Rotate the cookie for a new access token, unless another tab already did while this one
 * waited for the lock. `staleToken` is the token a request was refused with: a session
 * holding a different token is newer and is used as is.
 */
export function refresh(staleToken = null) {
  if (inflightRefresh === null) {
    inflightRefresh = withRefreshLock(async () => {
      if (isFresh(session) && session.token !== staleToken) return session.token;
      // keepalive: a reload while this request is in flight still stores the rotated
      // cookie, instead of leaving the browser with the one the server just retired.
      const response = await send("/api/v1/auth/refresh", {
        method: "POST",
        headers: { "X-Refresh-Cookie": "1" },
        keepalive: true,
      });
      if (!response.ok) throw await errorFrom(response);
      adopt(fromTokenResponse(await response.json()), { share: true });
      return session.token;
    }).finally(() => {
      inflightRefresh = null;
    });
  }
  return inflightRefresh;
}

function refusesSession(error) {
  return error.status === 401 || error.status === 403;
}

async function refreshInBackground() {
  try {
    await refresh(session && session.token);
  } catch (error) {
    if (refusesSession(error)) {
      endSession(SESSION_ENDED, { share: true });
    } else {
      refreshTimer = setTimeout(refreshInBackground, RETRY_AFTER_NETWORK_ERROR_MS);
    }
  }
}

function askOtherTabs() {
  return new Promise((resolve) => {
    const listener = ({ data }) => {
      if (data.type === "session") finish(true);
    };
    const finish = (answered) => {
      channel.removeEventListener("message", listener);
      clearTimeout(timer);
      resolve(answered);
    };
    const timer = setTimeout(() => finish(false), ASK_TIMEOUT_MS);
    channel.addEventListener("message", listener);
    channel.postMessage({ type: "ask" });
  });
}

/** On page load: take the session of another open tab, else refresh with the cookie.
 * Any refusal (no cookie, expired, revoked) means "not signed in"; only an unreachable
 * or overloaded server is an error worth showing. */
export async function resume() {
  await askOtherTabs();
  if (isFresh(session)) return true;
  try {
    await refresh();
    return true;
  } catch (error) {
    if (error.status >= 400 && error.status < 500 && error.status !== 429) return false;
    throw error;
  }
}

export async function signIn(email, password) {
  const response = await send("/api/v1/auth/login", {
    method: "POST",
    headers: { "X-Refresh-Cookie": "1" },
    body: new URLSearchParams({ username: email, password }),
  });
  if (!response.ok) throw await errorFrom(response);
  adopt(fromTokenResponse(await response.json()), { share: true });
}

export async function signOut() {
  try {
    await request("/api/v1/auth/logout", { method: "POST", headers: { "X-Refresh-Cookie": "1" } });
  } finally {
    endSession(null, { share: true });
  }
}

export function isSignedIn() {
  return session !== null;
}

function withQuery(path, query) {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, value);
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * Call the API as the signed-in developer; JSON in and out. A 401 refreshes once and
 * retries; when the refresh is refused the session ends and the page goes to sign-in.
 */
export async function request(path, { method = "GET", query, json, form, headers = {}, auth = true } = {}) {
  const url = withQuery(path, query);
  const call = (token) => {
    const options = { method, headers: { ...headers } };
    if (token) options.headers.Authorization = `Bearer ${token}`;
    if (json !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(json);
    } else if (form !== undefined) {
      options.body = new URLSearchParams(form);
    }
    return send(url, options);
  };
  let token = null;
  if (auth) {
    token = isFresh(session) ? session.token : await refreshOrEnd(session && session.token);
  }
  let response = await call(token);
  if (response.status === 401 && auth) {
    response = await call(await refreshOrEnd(token));
  }
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return null;
  return response.json();
}

async function refreshOrEnd(staleToken) {
  try {
    return await refresh(staleToken);
  } catch (error) {
    if (refusesSession(error)) endSession(SESSION_ENDED, { share: true });
    throw error;
  }
}

/** An `onConfirm` for a delete: DELETE `path`, then `after()` (e.g. reload the list). */
export function deleting(path, after) {
  return async () => {
    await request(path, { method: "DELETE" });
    after();
    return true;
  };
}
