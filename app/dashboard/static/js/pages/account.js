// The signed-in developer: profile, password, and where they are signed in.
import { html, useEffect, useState } from "../../vendor/htm-preact-standalone.module.js";
import { deleting, request } from "../api.js";
import { ConfirmDialog, ErrorText, Field, Table, When, pending, useAction, useLoad } from "../ui.js";

const PASSWORD_HINT = "At least 12 characters; not a common password and not your e-mail address.";

function Profile({ me }) {
  const [form, setForm] = useState({ first_name: "", last_name: "" });
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useAction();
  useEffect(() => {
    if (me) setForm({ first_name: me.first_name || "", last_name: me.last_name || "" });
  }, [me]);
  const set = (name) => (value) => {
    setSaved(false);
    setForm({ ...form, [name]: value });
  };
  const submit = async (event) => {
    event.preventDefault();
    const updated = await run(() => request("/api/v1/auth/me", { method: "PATCH", json: form }));
    if (updated) setSaved(true);
  };
  return html`
    <section aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <p>Signed in as <strong>${me ? me.email : "…"}</strong>.</p>
      <form class="stack" onSubmit=${submit}>
        <${Field} label="First name" value=${form.first_name} onInput=${set("first_name")} field="first_name" error=${error} />
        <${Field} label="Last name" value=${form.last_name} onInput=${set("last_name")} field="last_name" error=${error} />
        <${ErrorText} error=${error} />
        ${saved && html`<p class="notice" role="status">Profile saved.</p>`}
        <div class="actions"><button type="submit" disabled=${busy}>Save profile</button></div>
      </form>
    </section>`;
}

function ChangePassword({ onChanged }) {
  const empty = { current_password: "", new_password: "" };
  const [form, setForm] = useState(empty);
  const [changed, setChanged] = useState(false);
  const { busy, error, run } = useAction();
  const set = (name) => (value) => setForm({ ...form, [name]: value });
  const submit = async (event) => {
    event.preventDefault();
    setChanged(false);
    const done = await run(() => request("/api/v1/auth/change-password", { method: "POST", json: form }).then(() => true));
    if (done) {
      setForm(empty);
      setChanged(true);
      onChanged();
    }
  };
  return html`
    <section aria-labelledby="password-title">
      <h2 id="password-title">Change password</h2>
      <form class="stack" onSubmit=${submit}>
        <${Field} label="Current password" type="password" value=${form.current_password} onInput=${set("current_password")}
          field="current_password" error=${error} autocomplete="current-password" required />
        <${Field} label="New password" type="password" value=${form.new_password} onInput=${set("new_password")}
          field="new_password" error=${error} autocomplete="new-password" required minlength="12" hint=${PASSWORD_HINT} />
        <${ErrorText} error=${error} />
        ${changed && html`<p class="notice" role="status">Password changed. Your other sessions were signed out.</p>`}
        <div class="actions"><button type="submit" disabled=${busy}>Change password</button></div>
      </form>
    </section>`;
}

function Sessions({ sessions }) {
  const [dialog, setDialog] = useState(null);
  const close = () => setDialog(null);
  const content =
    pending(sessions, "sessions", (data) => data.items.length === 0, "No active sessions.") ||
    html`
      <${Table} columns=${["Device", "IP", "Signed in", "Last active"]} actions>
        ${sessions.data.items.map(
          (session) => html`<tr key=${session.id}>
            <th scope="row">${session.user_agent || "Unknown device"}${session.current && html` <span class="badge">this session</span>`}</th>
            <td>${session.ip || "—"}</td>
            <td><${When} iso=${session.created_at} /></td>
            <td><${When} iso=${session.last_used_at || session.created_at} /></td>
            <td class="row-actions">
              ${!session.current &&
              html`<button type="button" aria-label=${`Sign out session from ${session.ip || "unknown IP"}`}
                onClick=${() => setDialog({ kind: "one", session })}>Sign out</button>`}
            </td>
          </tr>`,
        )}
      <//>`;
  return html`
    <section aria-labelledby="sessions-title">
      <div class="page-head">
        <h2 id="sessions-title">Active sessions</h2>
        <button type="button" onClick=${() => setDialog({ kind: "others" })}>Sign out everywhere else</button>
      </div>
      ${content}
      ${dialog?.kind === "one" &&
      html`<${ConfirmDialog} title="Sign out this session?"
        message=${`The session from ${dialog.session.ip || "an unknown IP"} stops working immediately.`}
        confirmLabel="Sign out session" onClose=${close}
        onConfirm=${deleting(`/api/v1/auth/sessions/${dialog.session.id}`, sessions.reload)} />`}
      ${dialog?.kind === "others" &&
      html`<${ConfirmDialog} title="Sign out everywhere else?"
        message="Every session except this one stops working immediately." confirmLabel="Sign out other sessions" onClose=${close}
        onConfirm=${deleting("/api/v1/auth/sessions", sessions.reload)} />`}
    </section>`;
}

export function AccountPage({ me }) {
  const sessions = useLoad(() => request("/api/v1/auth/sessions", { query: { limit: 100 } }), []);
  return html`
    <h1>Account</h1>
    <div class="columns">
      <${Profile} me=${me} />
      <${ChangePassword} onChanged=${sessions.reload} />
    </div>
    <${Sessions} sessions=${sessions} />`;
}
