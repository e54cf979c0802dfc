// The audit trail as sentences, newest first, filtered by action and target.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { request } from "../api.js";
import { useApplications, useDevelopers } from "../people.js";
import { CursorPager, Field, Select, When, pending, useCursorPages, useLoad } from "../ui.js";

// What each action did, as a verb phrase about its target ("rotated API key X").
const ACTIONS = {
  "developer.login": () => "signed in",
  "developer.login_failed": (event) => `failed to sign in as ${event.details.email || "an unknown address"}`,
  "developer.logout": () => "signed out",
  "developer.profile_updated": () => "updated their profile",
  "developer.password_changed": () => "changed their password",
  "developer.password_check_failed": () => "entered a wrong password",
  "developer.password_reset_requested": () => "asked for a password reset link",
  "developer.password_reset": (event, names) => `reset the password of ${names.developer(event.target_id)}`,
  "developer.removed": (event, names) => `removed developer ${event.details.email || names.developer(event.target_id)}`,
  "developer.session_revoked": () => "signed out one of their sessions",
  "developer.sessions_revoked": () => "signed out all their other sessions",
  "invitation.created": (event) => `invited ${event.details.email || "a developer"}`,
  "invitation.resent": (event) => `resent ${event.details.email ? `the invitation to ${event.details.email}` : "an invitation"}`,
  "invitation.revoked": (event) => `revoked ${event.details.email ? `the invitation to ${event.details.email}` : "an invitation"}`,
  "invitation.accepted": () => "accepted an invitation and joined the team",
  "api_key.created": (event) => `created API key ${keyName(event)}`,
  "api_key.renamed": (event) => `renamed API key ${event.details.old_name} to ${event.details.name}`,
  "api_key.updated": (event) =>
    `changed the ${Object.keys(event.details).filter((f) => f.startsWith("old_")).map((f) => f.slice(4)).join(", ")} of API key ${keyName(event)}`,
  "api_key.ip_refused": (event) => `API key ${event.target_id} was refused from ${event.details.network}`,
  "api_key.rotated": (event) => `rotated API key ${keyName(event)}`,
  "api_key.deleted": (event) => `deleted API key ${keyName(event)}`,
  "application.created": (event, names) => `created application ${names.application(event.details.app_id)}`,
  "application.secret_rotated": (event, names) =>
    `rotated the secret of application ${names.application(event.details.app_id)}` +
    (event.details.revoke_sessions ? " and signed out its SDK sessions" : ""),
  "application.deleted": (event, names) => `deleted application ${names.application(event.details.app_id)}`,
  "sdk_token.minted": (event) => `minted an SDK token for user ${event.target_id}`,
  "sdk_token.mint_failed": (event, names) =>
    `failed to mint an SDK token for user ${event.target_id} with ${names.application(event.details.app_id)}`,
};

function keyName(event) {
  return event.details.name ? `${event.details.name} (${event.details.prefix}…)` : event.target_id;
}

function actorName(event, names) {
  switch (event.actor_type) {
    case "developer":
      return names.developer(event.actor_id);
    case "application":
      return `Application ${names.application(event.actor_id)}`;
    case "api_key":
      return `API key ${event.actor_id}`;
    case "sdk":
      return `User ${event.actor_id}`;
    default:
      return "Someone";
  }
}

/** "Ada Lovelace rotated API key Production Server (ow_live_1234…) from 198.51.100.23."
 * `names` turns developer ids and app ids into names. */
export function sentence(event, names) {
  const describe = ACTIONS[event.action];
  const what = describe
    ? describe(event, names)
    : `did ${event.action} on ${event.target_type || ""} ${event.target_id || ""}`.trim();
  return `${actorName(event, names)} ${what}${event.ip ? ` from ${event.ip}` : ""}.`;
}

export function AuditPage({ me }) {
  const [action, setAction] = useState("");
  const [targetDraft, setTargetDraft] = useState("");
  const [target, setTarget] = useState("");
  const names = { developer: useDevelopers(me), application: useApplications() };
  const pages = useCursorPages([action, target]);
  const events = useLoad(
    () => request("/api/v1/audit-events", { query: { action, target_id: target, cursor: pages.cursor, limit: 25 } }),
    [action, target, pages.cursor],
  );
  const applyTarget = (event) => {
    event.preventDefault();
    setTarget(targetDraft.trim());
  };

  const content =
    pending(events, "the audit log", (data) => data.data.length === 0, "No events match these filters.") ||
    html`
      <ol class="events" aria-label="Events">
        ${events.data.data.map(
          (event) => html`<li key=${event.id}>
            <p>${sentence(event, names)}</p>
            <p class="meta"><${When} iso=${event.created_at} /> · <code>${event.action}</code>${event.user_agent ? ` · ${event.user_agent}` : ""}</p>
          </li>`,
        )}
      </ol>
      <${CursorPager} pages=${pages} pagination=${events.data.pagination} />`;

  return html`
    <h1>Audit log</h1>
    <form class="inline" onSubmit=${applyTarget}>
      <${Select} label="Action" value=${action} onInput=${setAction}
        options=${[["", "All actions"], ...Object.keys(ACTIONS).map((name) => [name, name])]} />
      <${Field} label="Target ID" value=${targetDraft} onInput=${setTargetDraft} hint="A key, application, user or developer id." />
      <button type="submit">Filter</button>
    </form>
    ${content}`;
}
