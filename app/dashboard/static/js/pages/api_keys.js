// API keys: list, create (secret shown once), rename, restrict (scopes, allowed IPs),
// rotate (new secret shown once), delete.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { deleting, request } from "../api.js";
import { useDevelopers } from "../people.js";
import {
  Checkbox,
  ConfirmDialog,
  Field,
  FormDialog,
  ResultDialog,
  SecretOnce,
  Select,
  Table,
  TextArea,
  When,
  formatDay,
  pending,
  useAction,
  useLoad,
} from "../ui.js";

const KEYS = "/api/v1/api-keys";
// The API's scope vocabulary (app.core.auth.API_KEY_SCOPES; the browser test compares them).
const SCOPES = [
  ["users:read", "Read users"],
  ["users:write", "Create, update and delete users"],
  ["data:read", "Read workouts and time series"],
  ["data:write", "Ingest and delete workouts and time series"],
  ["tokens:introspect", "Introspect tokens"],
];

/** The form's state of a key's restrictions, and the API fields it stands for. */
function useRestrictions(apiKey) {
  const [scopes, setScopes] = useState(apiKey?.scopes ?? []);
  const [ips, setIps] = useState((apiKey?.allowed_ips ?? []).join("\n"));
  const toggle = (scope, on) => setScopes(on ? [...scopes, scope] : scopes.filter((s) => s !== scope));
  const lines = ips.split("\n").map((line) => line.trim()).filter(Boolean);
  const fields = { scopes: scopes.length ? scopes : null, allowed_ips: lines.length ? lines : null };
  return { scopes, toggle, ips, setIps, fields };
}

function RestrictionFields({ restrictions, error }) {
  return html`
    <fieldset>
      <legend>Scopes</legend>
      <p class="hint">Leave all unchecked for full access.</p>
      ${SCOPES.map(([scope, text]) => html`<${Checkbox} key=${scope} label=${`${scope}: ${text}`}
        value=${restrictions.scopes.includes(scope)} onInput=${(on) => restrictions.toggle(scope, on)} />`)}
    </fieldset>
    <${TextArea} label="Allowed IPs" value=${restrictions.ips} onInput=${restrictions.setIps} field="allowed_ips"
      error=${error} rows="3" hint="One address or network (CIDR) per line; empty: from anywhere." />`;
}

function Access({ apiKey }) {
  return html`${apiKey.scopes ? apiKey.scopes.join(", ") : html`<span class="muted">full access</span>`}
    <span class="sub">${apiKey.allowed_ips ? `from ${apiKey.allowed_ips.join(", ")}` : "from anywhere"}</span>`;
}

function SecretDialog({ apiKey, title, onClose }) {
  return html`<${ResultDialog} title=${title} onClose=${onClose}>
    <${SecretOnce} label="API key" value=${apiKey.key} />
  <//>`;
}

function CreateKeyDialog({ onClose, onCreated }) {
  const [name, setName] = useState("");
  const [environment, setEnvironment] = useState("live");
  const [expires, setExpires] = useState("");
  const [created, setCreated] = useState(null);
  const restrictions = useRestrictions(null);
  const { busy, error, run } = useAction();
  const submit = async () => {
    const json = { name, environment, ...restrictions.fields };
    if (expires) json.expires_at = new Date(expires).toISOString();
    const key = await run(() => request(KEYS, { method: "POST", json }));
    if (key) {
      setCreated(key);
      onCreated();
    }
  };
  if (created) return html`<${SecretDialog} apiKey=${created} title=${`API key ${created.name} created`} onClose=${onClose} />`;
  return html`
    <${FormDialog} title="Create API key" submitLabel="Create API key" onSubmit=${submit} onClose=${onClose}
      busy=${busy} error=${error}>
      <${Field} label="Name" value=${name} onInput=${setName} field="name" error=${error} required maxlength="100" />
      <${Select} label="Environment" value=${environment} onInput=${setEnvironment}
        options=${[["live", "Live (ow_live_…)"], ["test", "Test (ow_test_…)"]]} />
      <${Field} label="Expires (optional)" type="datetime-local" value=${expires} onInput=${setExpires}
        field="expires_at" error=${error} hint="Leave empty for a key that does not expire." />
      <${RestrictionFields} restrictions=${restrictions} error=${error} />
    <//>`;
}

function RestrictDialog({ apiKey, onClose, onSaved }) {
  const restrictions = useRestrictions(apiKey);
  const { busy, error, run } = useAction();
  const submit = async () => {
    const json = restrictions.fields;
    const saved = await run(() => request(`${KEYS}/${apiKey.id}`, { method: "PATCH", json }));
    if (saved) {
      onSaved();
      onClose();
    }
  };
  return html`
    <${FormDialog} title=${`Restrict ${apiKey.name}`} submitLabel="Save restrictions" onSubmit=${submit}
      onClose=${onClose} busy=${busy} error=${error}>
      <p>A narrower restriction holds on every server as soon as it is saved.</p>
      <${RestrictionFields} restrictions=${restrictions} error=${error} />
    <//>`;
}

function RenameDialog({ apiKey, onClose, onRenamed }) {
  const [name, setName] = useState(apiKey.name);
  const { busy, error, run } = useAction();
  const submit = async () => {
    const renamed = await run(() => request(`${KEYS}/${apiKey.id}`, { method: "PATCH", json: { name } }));
    if (renamed) {
      onRenamed();
      onClose();
    }
  };
  return html`
    <${FormDialog} title=${`Rename ${apiKey.name}`} submitLabel="Save name" onSubmit=${submit} onClose=${onClose}
      busy=${busy} error=${error}>
      <${Field} label="Name" value=${name} onInput=${setName} field="name" error=${error} required maxlength="100" />
    <//>`;
}

function RotateDialog({ apiKey, onClose, onRotated }) {
  const [rotated, setRotated] = useState(null);
  if (rotated) return html`<${SecretDialog} apiKey=${rotated} title=${`New secret for ${rotated.name}`} onClose=${onClose} />`;
  return html`<${ConfirmDialog}
    title=${`Rotate ${apiKey.name}?`}
    message=${`The current secret of ${apiKey.name} (${apiKey.prefix}…) stops working immediately, on every server. ` +
      "Anything still using it gets 401 until you give it the new secret."}
    confirmLabel="Rotate key"
    keepOpen
    onClose=${onClose}
    onConfirm=${async () => {
      const result = await request(`${KEYS}/${apiKey.id}/rotate`, { method: "POST" });
      setRotated(result);
      onRotated();
      return result;
    }}
  />`;
}

function KeyRow({ apiKey, developerName, open }) {
  return html`<tr>
    <th scope="row">${apiKey.name}</th>
    <td><code>${apiKey.prefix}…</code></td>
    <td>${apiKey.environment}</td>
    <td><${When} iso=${apiKey.created_at} /></td>
    <td>${developerName(apiKey.created_by)}</td>
    <td><${When} iso=${apiKey.last_used_at} />${apiKey.last_used_ip && html`<span class="sub">from ${apiKey.last_used_ip}</span>`}</td>
    <td>${apiKey.expires_at ? formatDay(apiKey.expires_at) : html`<span class="muted">never</span>`}</td>
    <td><${Access} apiKey=${apiKey} /></td>
    <td class="row-actions">
      <a class="button" href=${`/dashboard/api-keys/${apiKey.id}/usage`} aria-label=${`Usage of ${apiKey.name}`}>Usage</a>
      <button type="button" aria-label=${`Rename ${apiKey.name}`} onClick=${() => open("rename", apiKey)}>Rename</button>
      <button type="button" aria-label=${`Restrict ${apiKey.name}`} onClick=${() => open("restrict", apiKey)}>Restrict</button>
      <button type="button" aria-label=${`Rotate ${apiKey.name}`} onClick=${() => open("rotate", apiKey)}>Rotate</button>
      <button type="button" class="danger" aria-label=${`Delete ${apiKey.name}`} onClick=${() => open("delete", apiKey)}>Delete</button>
    </td>
  </tr>`;
}

export function ApiKeysPage({ me }) {
  const keys = useLoad(() => request(KEYS), []);
  const developerName = useDevelopers(me);
  const [dialog, setDialog] = useState(null);
  const open = (kind, apiKey) => setDialog({ kind, apiKey });
  const close = () => setDialog(null);
  const content =
    pending(keys, "API keys", (list) => list.length === 0, "No API keys yet. Create one for each server that calls the API.") ||
    html`<${Table} columns=${["Name", "Prefix", "Environment", "Created", "Created by", "Last used", "Expires", "Access"]} actions>
      ${keys.data.map((apiKey) => html`<${KeyRow} key=${apiKey.id} apiKey=${apiKey} developerName=${developerName} open=${open} />`)}
    <//>`;
  return html`
    <div class="page-head">
      <h1>API keys</h1>
      <button type="button" class="primary" onClick=${() => open("create")}>Create API key</button>
    </div>
    <p class="lead">Server-to-server credentials with access to every user and their data, unless restricted to scopes or networks. Keep them on servers only.</p>
    ${content}
    ${dialog?.kind === "create" && html`<${CreateKeyDialog} onClose=${close} onCreated=${keys.reload} />`}
    ${dialog?.kind === "rename" && html`<${RenameDialog} apiKey=${dialog.apiKey} onClose=${close} onRenamed=${keys.reload} />`}
    ${dialog?.kind === "restrict" && html`<${RestrictDialog} apiKey=${dialog.apiKey} onClose=${close} onSaved=${keys.reload} />`}
    ${dialog?.kind === "rotate" && html`<${RotateDialog} apiKey=${dialog.apiKey} onClose=${close} onRotated=${keys.reload} />`}
    ${dialog?.kind === "delete" &&
    html`<${ConfirmDialog}
      title=${`Delete ${dialog.apiKey.name}?`}
      message=${`${dialog.apiKey.name} (${dialog.apiKey.prefix}…) stops working immediately and cannot be restored.`}
      confirmLabel="Delete key"
      onConfirm=${deleting(`${KEYS}/${dialog.apiKey.id}`, keys.reload)}
      onClose=${close}
    />`}`;
}
