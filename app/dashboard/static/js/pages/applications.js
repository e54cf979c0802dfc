// Applications: list, create (app_secret shown once), rotate the secret, delete.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { deleting, request } from "../api.js";
import {
  Checkbox,
  ConfirmDialog,
  Field,
  FormDialog,
  PagePager,
  ResultDialog,
  SecretOnce,
  Table,
  When,
  pending,
  useAction,
  useLoad,
} from "../ui.js";

const APPLICATIONS = "/api/v1/applications";

function Credentials({ application, onClose }) {
  return html`
    <${ResultDialog} title=${`Credentials of ${application.name}`} onClose=${onClose}>
      <p>App ID: <code>${application.app_id}</code></p>
      <${SecretOnce} label="App secret" value=${application.app_secret} />
    <//>`;
}

function CreateApplicationDialog({ onClose, onCreated }) {
  const [name, setName] = useState("");
  const [created, setCreated] = useState(null);
  const { busy, error, run } = useAction();
  const submit = async () => {
    const application = await run(() => request(APPLICATIONS, { method: "POST", json: { name } }));
    if (application) {
      setCreated(application);
      onCreated();
    }
  };
  if (created) return html`<${Credentials} application=${created} onClose=${onClose} />`;
  return html`
    <${FormDialog} title="Create application" submitLabel="Create application" onSubmit=${submit} onClose=${onClose}
      busy=${busy} error=${error}>
      <${Field} label="Name" value=${name} onInput=${setName} field="name" error=${error} required maxlength="100" />
    <//>`;
}

function RotateSecretDialog({ application, onClose }) {
  const [revokeSessions, setRevokeSessions] = useState(false);
  const [rotated, setRotated] = useState(null);
  if (rotated) return html`<${Credentials} application=${rotated} onClose=${onClose} />`;
  return html`<${ConfirmDialog}
    title=${`Rotate the secret of ${application.name}?`}
    message="The current app secret stops working immediately; back ends minting SDK tokens with it get 401 until they have the new one."
    confirmLabel="Rotate secret"
    keepOpen
    onClose=${onClose}
    onConfirm=${async () => {
      const result = await request(`${APPLICATIONS}/${application.id}/rotate-secret`, {
        method: "POST",
        json: { revoke_sessions: revokeSessions },
      });
      setRotated(result);
      return result;
    }}
  >
    <${Checkbox} label="Also sign out every SDK session this application minted (use this when the secret leaked)"
      value=${revokeSessions} onInput=${setRevokeSessions} />
  <//>`;
}

export function ApplicationsPage() {
  const [page, setPage] = useState(1);
  const applications = useLoad(() => request(APPLICATIONS, { query: { page, limit: 20 } }), [page]);
  const [dialog, setDialog] = useState(null);
  const close = () => setDialog(null);
  const content =
    pending(applications, "applications", (data) => data.total === 0,
      "No applications yet. An application's credentials let your back end mint SDK tokens for your users.") ||
    html`
      <${Table} columns=${["Name", "App ID", "Created"]} actions>
        ${applications.data.items.map(
          (application) => html`<tr key=${application.id}>
            <th scope="row">${application.name}</th>
            <td><code>${application.app_id}</code></td>
            <td><${When} iso=${application.created_at} /></td>
            <td class="row-actions">
              <button type="button" aria-label=${`Rotate secret of ${application.name}`}
                onClick=${() => setDialog({ kind: "rotate", application })}>Rotate secret</button>
              <button type="button" class="danger" aria-label=${`Delete ${application.name}`}
                onClick=${() => setDialog({ kind: "delete", application })}>Delete</button>
            </td>
          </tr>`,
        )}
      <//>
      <${PagePager} data=${applications.data} onPage=${setPage} />`;

  return html`
    <div class="page-head">
      <h1>Applications</h1>
      <button type="button" class="primary" onClick=${() => setDialog({ kind: "create" })}>Create application</button>
    </div>
    <p class="lead">Each application's <code>app_id</code> and <code>app_secret</code> let a back end mint SDK tokens for one user.</p>
    ${content}
    ${dialog?.kind === "create" && html`<${CreateApplicationDialog} onClose=${close} onCreated=${applications.reload} />`}
    ${dialog?.kind === "rotate" && html`<${RotateSecretDialog} application=${dialog.application} onClose=${close} />`}
    ${dialog?.kind === "delete" &&
    html`<${ConfirmDialog}
      title=${`Delete ${dialog.application.name}?`}
      message=${`Every SDK token ${dialog.application.name} minted stops working immediately, and its credentials cannot mint new ones.`}
      confirmLabel="Delete application"
      onConfirm=${deleting(`${APPLICATIONS}/${dialog.application.id}`, applications.reload)}
      onClose=${close}
    />`}`;
}
