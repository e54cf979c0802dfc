// The team: developers, removing one, and invitations (the accept link is shown once).
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { deleting, request } from "../api.js";
import {
  ConfirmDialog,
  ErrorText,
  Field,
  FormDialog,
  ResultDialog,
  SecretOnce,
  Table,
  When,
  formatDate,
  fullName,
  pending,
  useAction,
  useLoad,
} from "../ui.js";

// Removing a developer and inviting one need a session that proved the password lately.
function needsFreshSession(error) {
  return error && error.status === 403 && /confirm your password/i.test(error.message);
}

async function confirmPassword(password) {
  await request("/api/v1/auth/confirm-password", { method: "POST", json: { password } });
}

function PasswordField({ password, setPassword, error }) {
  return html`<${Field} label="Your password" type="password" value=${password} onInput=${setPassword}
    field="password" error=${error} autocomplete="current-password" required
    hint="Removing or inviting developers asks for your password again." />`;
}

function InviteLink({ title, invitation, onClose }) {
  return html`
    <${ResultDialog} title=${title} onClose=${onClose}>
      <p>We e-mailed ${invitation.email} this link; you can also send it yourself. It works once and expires
        ${formatDate(invitation.expires_at)}.</p>
      <${SecretOnce} label="Invitation link" value=${invitation.accept_url} />
    <//>`;
}

function InviteDialog({ onClose, onInvited }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [askPassword, setAskPassword] = useState(false);
  const [invitation, setInvitation] = useState(null);
  const { busy, error, run } = useAction();
  const submit = async () => {
    const created = await run(async () => {
      if (askPassword) await confirmPassword(password);
      try {
        return await request("/api/v1/invitations", { method: "POST", json: { email } });
      } catch (caught) {
        if (needsFreshSession(caught)) setAskPassword(true);
        throw caught;
      }
    });
    if (created) {
      setInvitation(created);
      onInvited();
    }
  };
  if (invitation) return html`<${InviteLink} title=${`Invitation for ${invitation.email}`} invitation=${invitation} onClose=${onClose} />`;
  return html`
    <${FormDialog} title="Invite a developer" submitLabel="Invite" onSubmit=${submit} onClose=${onClose} busy=${busy} error=${error}>
      <${Field} label="Email" type="email" value=${email} onInput=${setEmail} field="email" error=${error} required />
      ${askPassword && html`<${PasswordField} password=${password} setPassword=${setPassword} error=${error} />`}
    <//>`;
}

function RemoveDeveloperDialog({ developer, onClose, onRemoved }) {
  const [password, setPassword] = useState("");
  return html`<${ConfirmDialog}
    title=${`Remove ${fullName(developer)}?`}
    message=${`${developer.email} can no longer sign in and every session of theirs ends now. ` +
      "The API keys and applications they created stay."}
    confirmLabel="Remove developer"
    onClose=${onClose}
    onConfirm=${async () => {
      await confirmPassword(password);
      await request(`/api/v1/developers/${developer.id}`, { method: "DELETE" });
      onRemoved();
      return true;
    }}
  >
    <${PasswordField} password=${password} setPassword=${setPassword} />
  <//>`;
}

function Developers({ me }) {
  const developers = useLoad(() => request("/api/v1/developers", { query: { limit: 100 } }), []);
  const [removing, setRemoving] = useState(null);
  const isMe = (developer) => me && developer.id === me.id;
  const content =
    pending(developers, "developers", (data) => data.items.length === 0, "No developers.") ||
    html`
      <${Table} columns=${["Name", "Email", "Joined", "Last sign-in"]} actions>
        ${developers.data.items.map(
          (developer) => html`<tr key=${developer.id}>
            <th scope="row">${fullName(developer)}${isMe(developer) && html` <span class="badge">you</span>`}</th>
            <td>${developer.email}</td>
            <td><${When} iso=${developer.created_at} /></td>
            <td><${When} iso=${developer.last_login_at} /></td>
            <td class="row-actions">
              ${!isMe(developer) &&
              html`<button type="button" class="danger" aria-label=${`Remove ${fullName(developer)}`}
                onClick=${() => setRemoving(developer)}>Remove</button>`}
            </td>
          </tr>`,
        )}
      <//>`;
  return html`
    <section aria-labelledby="developers-title">
      <h2 id="developers-title">Developers</h2>
      ${content}
      ${removing && html`<${RemoveDeveloperDialog} developer=${removing} onClose=${() => setRemoving(null)} onRemoved=${developers.reload} />`}
    </section>`;
}

function Invitations() {
  const invitations = useLoad(() => request("/api/v1/invitations", { query: { limit: 100 } }), []);
  const [dialog, setDialog] = useState(null);
  const close = () => setDialog(null);
  const resend = useAction();
  const resendTo = async (invitation) => {
    const renewed = await resend.run(() => request(`/api/v1/invitations/${invitation.id}/resend`, { method: "POST" }));
    if (renewed) {
      setDialog({ kind: "link", invitation: renewed });
      invitations.reload();
    }
  };
  const content =
    pending(invitations, "invitations", (data) => data.items.length === 0, "No pending invitations.") ||
    html`
      <${Table} columns=${["Email", "Expires"]} actions>
        ${invitations.data.items.map(
          (invitation) => html`<tr key=${invitation.id}>
            <th scope="row">${invitation.email}</th>
            <td><${When} iso=${invitation.expires_at} /></td>
            <td class="row-actions">
              <button type="button" aria-label=${`Resend invitation to ${invitation.email}`} disabled=${resend.busy}
                onClick=${() => resendTo(invitation)}>Resend</button>
              <button type="button" class="danger" aria-label=${`Revoke invitation to ${invitation.email}`}
                onClick=${() => setDialog({ kind: "revoke", invitation })}>Revoke</button>
            </td>
          </tr>`,
        )}
      <//>`;
  return html`
    <section aria-labelledby="invitations-title">
      <div class="page-head">
        <h2 id="invitations-title">Invitations</h2>
        <button type="button" class="primary" onClick=${() => setDialog({ kind: "invite" })}>Invite</button>
      </div>
      <${ErrorText} error=${resend.error} />
      ${content}
      ${dialog?.kind === "invite" && html`<${InviteDialog} onClose=${close} onInvited=${invitations.reload} />`}
      ${dialog?.kind === "link" &&
      html`<${InviteLink} title=${`New link for ${dialog.invitation.email}`} invitation=${dialog.invitation} onClose=${close} />`}
      ${dialog?.kind === "revoke" &&
      html`<${ConfirmDialog} title=${`Revoke the invitation to ${dialog.invitation.email}?`}
        message="Its link stops working immediately." confirmLabel="Revoke invitation" onClose=${close}
        onConfirm=${deleting(`/api/v1/invitations/${dialog.invitation.id}`, invitations.reload)} />`}
    </section>`;
}

export function TeamPage({ me }) {
  return html`
    <h1>Team</h1>
    <p class="lead">Everyone here can manage keys, applications and users.</p>
    <${Developers} me=${me} />
    <${Invitations} />`;
}
