// One end user: details, workouts in a date range, a time-series chart, and an SDK token
// pair minted with the developer's own token (Method 2) for testing.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { request } from "../api.js";
import { LineChart } from "../chart.js";
import {
  CursorPager,
  ErrorText,
  Field,
  Loading,
  ResultDialog,
  SecretOnce,
  Select,
  Table,
  formatDate,
  fullName,
  pending,
  useAction,
  useCursorPages,
  useLoad,
} from "../ui.js";

const SERIES_TYPES = [
  ["heart_rate", "Heart rate", "bpm"],
  ["resting_heart_rate", "Resting heart rate", "bpm"],
  ["heart_rate_variability", "Heart rate variability", "ms"],
  ["steps", "Steps", "count"],
  ["active_energy", "Active energy", "kcal"],
  ["distance", "Distance", "m"],
  ["weight", "Weight", "kg"],
  ["oxygen_saturation", "Oxygen saturation", "%"],
];
const CHART_LIMIT = 1000;
const DAY_MS = 24 * 3600 * 1000;

function isoDay(time) {
  return new Date(time).toISOString().slice(0, 10);
}

function DateRange({ range, onChange, error }) {
  return html`
    <div class="inline">
      <${Field} label="From" type="date" value=${range.start} onInput=${(start) => onChange({ ...range, start })}
        field="start_date" error=${error} required />
      <${Field} label="To" type="date" value=${range.end} onInput=${(end) => onChange({ ...range, end })}
        field="end_date" error=${error} required />
    </div>`;
}

function useRange(days) {
  return useState({ start: isoDay(Date.now() - days * DAY_MS), end: isoDay(Date.now()) });
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.round((seconds % 3600) / 60);
  return hours ? `${hours} h ${minutes} min` : `${minutes} min`;
}

function Workouts({ userId }) {
  const [range, setRange] = useRange(30);
  const pages = useCursorPages([range.start, range.end]);
  const workouts = useLoad(
    () =>
      request(`/api/v1/users/${userId}/events/workouts`, {
        query: { start_date: range.start, end_date: range.end, cursor: pages.cursor, limit: 20 },
      }),
    [userId, range.start, range.end, pages.cursor],
  );
  // A refused range is shown at the date fields it names.
  const content = workouts.error?.errors
    ? null
    : pending(workouts, "workouts", (data) => data.data.length === 0, "No workouts started in this range.") ||
      html`
        <${Table} columns=${["Started", "Type", "Name", "Duration", "Calories", "Distance", "Avg heart rate", "Source"]}>
          ${workouts.data.data.map(
            (workout) => html`<tr key=${workout.id}>
              <td>${formatDate(workout.start_time)}</td>
              <td>${workout.type}</td>
              <td>${workout.name || "—"}</td>
              <td>${duration(workout.duration_seconds)}</td>
              <td>${workout.calories_kcal != null ? `${workout.calories_kcal} kcal` : "—"}</td>
              <td>${workout.distance_meters != null ? `${(workout.distance_meters / 1000).toFixed(2)} km` : "—"}</td>
              <td>${workout.avg_heart_rate_bpm != null ? `${workout.avg_heart_rate_bpm} bpm` : "—"}</td>
              <td>${[workout.source?.provider, workout.source?.device].filter(Boolean).join(" · ") || "—"}</td>
            </tr>`,
          )}
        <//>
        <${CursorPager} pages=${pages} pagination=${workouts.data.pagination} />`;
  return html`
    <section aria-labelledby="workouts-title">
      <h2 id="workouts-title">Workouts</h2>
      <${DateRange} range=${range} onChange=${setRange} error=${workouts.error} />
      ${content}
    </section>`;
}

function TimeSeries({ userId }) {
  const [range, setRange] = useRange(7);
  const [type, setType] = useState("heart_rate");
  const [, label, unit] = SERIES_TYPES.find(([value]) => value === type);
  const series = useLoad(
    () =>
      request(`/api/v1/users/${userId}/timeseries`, {
        query: { types: type, start_time: range.start, end_time: range.end, limit: CHART_LIMIT },
      }),
    [userId, type, range.start, range.end],
  );
  const content = series.error?.errors
    ? null
    : pending(series, label.toLowerCase(), (data) => data.data.length === 0, `No ${label.toLowerCase()} samples in this range.`) ||
      html`
        <${LineChart} points=${series.data.data} label=${label} unit=${unit} />
        ${series.data.pagination.has_more &&
        html`<p class="hint">Showing the first ${CHART_LIMIT} samples; choose a shorter range to see the rest.</p>`}`;
  return html`
    <section aria-labelledby="series-title">
      <h2 id="series-title">Time series</h2>
      <div class="inline">
        <${Select} label="Type" value=${type} onInput=${setType}
          options=${SERIES_TYPES.map(([value, text, seriesUnit]) => [value, `${text} (${seriesUnit})`])} />
        <${DateRange} range=${range} onChange=${setRange} error=${series.error} />
      </div>
      ${content}
    </section>`;
}

function SdkTokenButton({ user }) {
  const [pair, setPair] = useState(null);
  const { busy, error, run } = useAction();
  const mint = async () => {
    const minted = await run(() => request(`/api/v1/users/${user.id}/token`, { method: "POST" }));
    if (minted) setPair(minted);
  };
  return html`
    <div>
      <button type="button" onClick=${mint} disabled=${busy}>Generate SDK token</button>
      <${ErrorText} error=${error} />
      ${pair &&
      html`<${ResultDialog} title=${`SDK token for ${fullName(user) || user.id}`} onClose=${() => setPair(null)}>
        <p>For testing: this pair acts as this user only, for ${Math.round(pair.expires_in / 60)} minutes (the refresh token renews it).</p>
        <${SecretOnce} label="Access token" value=${pair.access_token} />
        <${SecretOnce} label="Refresh token" value=${pair.refresh_token} />
      <//>`}
    </div>`;
}

export function UserPage({ userId }) {
  const user = useLoad(() => request(`/api/v1/users/${encodeURIComponent(userId)}`), [userId]);
  if (user.loading && !user.data) return html`<h1>User</h1><${Loading} what="the user" />`;
  if (user.error) return html`<h1>User</h1><${ErrorText} error=${user.error} /><p><a href="/dashboard/users">Back to users</a></p>`;
  const person = user.data;
  return html`
    <p><a href="/dashboard/users">← Users</a></p>
    <div class="page-head">
      <h1>${fullName(person) || "Unnamed user"}</h1>
      <${SdkTokenButton} user=${person} />
    </div>
    <dl class="facts">
      <dt>ID</dt><dd><code>${person.id}</code></dd>
      <dt>Email</dt><dd>${person.email || "—"}</dd>
      <dt>External ID</dt><dd>${person.external_user_id || "—"}</dd>
      <dt>Created</dt><dd>${formatDate(person.created_at)}</dd>
    </dl>
    <${TimeSeries} userId=${person.id} />
    <${Workouts} userId=${person.id} />`;
}
