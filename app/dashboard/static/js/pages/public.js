// Pages for people who are not signed in: sign in, forgotten password, reset, invitation.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { request, signIn } from "../api.js";
import { navigate } from "../router.js";
import { ErrorText, Field, useAction } from "../ui.js";

export function SignInPage({ message }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const { busy, error, run } = useAction();
  const submit = async (event) => {
    event.preventDefault();
    await run(() => signIn(email, password));
  };
  return html`
    <h1>Sign in</h1>
    ${message && !error && html`<p class="notice" role="status">${message}</p>`}
    <form onSubmit=${submit} class="stack">
      <${Field} label="Email" type="email" value=${email} onInput=${setEmail} autocomplete="username" required />
      <${Field} label="Password" type="password" value=${password} onInput=${setPassword}
        autocomplete="current-password" required />
      <${ErrorText} error=${error} />
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Sign in</button></div>
    </form>
    <p><a href="/dashboard/forgot-password">Forgot your password?</a></p>`;
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const { busy, error, run } = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const done = await run(async () => {
      await request("/api/v1/auth/forgot-password", { method: "POST", json: { email }, auth: false });
      return true;
    });
    if (done) setSent(true);
  };
  return html`
    <h1>Forgot your password?</h1>
    ${sent
      ? html`<p class="notice" role="status">If ${email} belongs to an account, a link to choose a new
          password is on its way. It works once and expires soon.</p>`
      : html`<form onSubmit=${submit} class="stack">
          <p>Enter your e-mail address and we will send you a link to choose a new password.</p>
          <${Field} label="Email" type="email" value=${email} onInput=${setEmail} field="email" error=${error}
            autocomplete="username" required />
          <${ErrorText} error=${error} />
          <div class="actions"><button type="submit" class="primary" disabled=${busy}>Send reset link</button></div>
        </form>`}
    <p><a href="/dashboard/sign-in">Back to sign in</a></p>`;
}

/** The one-time token of an invitation or reset link arrives in the URL fragment (never
 * sent to a server); it leaves the address bar and history as soon as the page loads. */
const linkToken = new URLSearchParams(location.hash.slice(1)).get("token");
if (linkToken) history.replaceState(null, "", location.pathname);

function MissingToken({ what }) {
  return html`<p class="error" role="alert">This ${what} link is incomplete. Open the link from the e-mail
    again, or ask for a new one.</p>`;
}

export function ResetPasswordPage() {
  const token = linkToken;
  const [password, setPassword] = useState("");
  const [done, setDone] = useState(false);
  const { busy, error, run } = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const result = await run(() =>
      request("/api/v1/auth/reset-password", {
        method: "POST",
        json: { token, new_password: password },
        auth: false,
      }).then(() => true),
    );
    if (result) setDone(true);
  };
  if (!token) return html`<h1>Choose a new password</h1><${MissingToken} what="reset" />`;
  return html`
    <h1>Choose a new password</h1>
    ${done
      ? html`<p class="notice" role="status">Your password is changed and every session was signed out.</p>
          <button type="button" class="primary" onClick=${() => navigate("/sign-in")}>Go to sign in</button>`
      : html`<form onSubmit=${submit} class="stack">
          <${Field} label="New password" type="password" value=${password} onInput=${setPassword}
            field="new_password" error=${error} autocomplete="new-password" required minlength="12"
            hint="At least 12 characters; not a common password and not your e-mail address." />
          <${ErrorText} error=${error} />
          <div class="actions"><button type="submit" class="primary" disabled=${busy}>Set new password</button></div>
        </form>`}`;
}

export function AcceptInvitationPage() {
  const token = linkToken;
  const [form, setForm] = useState({ first_name: "", last_name: "", password: "" });
  const [developer, setDeveloper] = useState(null);
  const { busy, error, run } = useAction();
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  const submit = async (event) => {
    event.preventDefault();
    const created = await run(() =>
      request("/api/v1/invitations/accept", { method: "POST", json: { token, ...form }, auth: false }),
    );
    if (created) setDeveloper(created);
  };
  if (!token) return html`<h1>Join the team</h1><${MissingToken} what="invitation" />`;
  if (developer) {
    return html`
      <h1>Welcome</h1>
      <p class="notice" role="status">Your account ${developer.email} is ready.</p>
      <button type="button" class="primary" onClick=${() => navigate("/sign-in")}>Go to sign in</button>`;
  }
  return html`
    <h1>Join the team</h1>
    <form onSubmit=${submit} class="stack">
      <${Field} label="First name" value=${form.first_name} onInput=${set("first_name")} field="first_name"
        error=${error} autocomplete="given-name" />
      <${Field} label="Last name" value=${form.last_name} onInput=${set("last_name")} field="last_name"
        error=${error} autocomplete="family-name" />
      <${Field} label="Password" type="password" value=${form.password} onInput=${set("password")}
        field="password" error=${error} autocomplete="new-password" required minlength="12"
        hint="At least 12 characters; not a common password and not your e-mail address." />
      <${ErrorText} error=${error} />
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>Create my account</button></div>
    </form>`;
}
