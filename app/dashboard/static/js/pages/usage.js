// Usage analytics: requests made with API keys and SDK tokens by status class over time,
// for everything (with the busiest routes, keys and end users) or for one API key.
import { html, useState } from "../../vendor/htm-preact-standalone.module.js";
import { request } from "../api.js";
import { LineChart, MultiLineChart } from "../chart.js";
import { ErrorText, Loading, Select, Table, formatDate, pending, useLoad } from "../ui.js";

const STATUS_CLASSES = [
  ["2xx", "2xx success"],
  ["4xx", "4xx client error"],
  ["429", "429 rate limited"],
  ["5xx", "5xx server error"],
];
const PERIODS = [
  ["minute", "Last hour, per minute"],
  ["hour", "Last 24 h, per hour"],
  ["day", "Last 30 days, per day"],
];
const SHOWN_ROWS = 10;
const count = new Intl.NumberFormat("en");

function requests(counts) {
  return STATUS_CLASSES.reduce((sum, [status]) => sum + counts[status], 0);
}

function useUsage(path) {
  const [granularity, setGranularity] = useState("hour");
  const usage = useLoad(() => request(path, { query: { granularity } }), [path, granularity]);
  return { granularity, setGranularity, usage };
}

function PeriodControls({ granularity, setGranularity, usage }) {
  return html`
    <div class="inline">
      <${Select} label="Period" value=${granularity} onInput=${setGranularity} options=${PERIODS} />
      <button type="button" onClick=${usage.reload} disabled=${usage.loading}>Refresh</button>
    </div>`;
}

function StatusChart({ data }) {
  const lines = STATUS_CLASSES.map(([status, name]) => ({
    name,
    points: data.map((bucket) => ({ time: bucket.start, value: bucket[status] })),
  }));
  return html`<${MultiLineChart} lines=${lines} label="Requests by status" unit="requests" floor=${0} />`;
}

function Totals({ totals }) {
  return html`
    <section aria-labelledby="totals-title">
      <h2 id="totals-title">Totals</h2>
      <dl class="totals">
        <div><dt>All requests</dt><dd>${count.format(requests(totals))}</dd></div>
        ${STATUS_CLASSES.map(([status, name]) => html`<div><dt>${name}</dt><dd>${count.format(totals[status])}</dd></div>`)}
      </dl>
    </section>`;
}

/** One table row per key, user or route, busiest first: its name, then its counts. */
function CountsTable({ title, nameColumn, rows, name, empty }) {
  const id = `${title.toLowerCase().replace(/\W+/g, "-")}-title`;
  const shown = rows.slice(0, SHOWN_ROWS);
  return html`
    <section aria-labelledby=${id}>
      <h2 id=${id}>${title}</h2>
      ${rows.length === 0
        ? html`<p class="empty">${empty}</p>`
        : html`<${Table} columns=${[nameColumn, "All", ...STATUS_CLASSES.map(([status]) => status)]}>
            ${shown.map(
              (row) => html`<tr>
                <th scope="row">${name(row)}</th>
                <td>${count.format(requests(row))}</td>
                ${STATUS_CLASSES.map(([status]) => html`<td>${count.format(row[status])}</td>`)}
              </tr>`,
            )}
          <//>
          ${rows.length > shown.length && html`<p class="hint">The busiest ${shown.length} of ${rows.length}.</p>`}`}
    </section>`;
}

function RoutesTable({ routes }) {
  return html`<${CountsTable} title="Top routes" nameColumn="Route" rows=${routes}
    name=${(row) => html`<code>${row.route}</code>`} empty="No requests in this period." />`;
}

function Period({ usage }) {
  return html`<p class="hint">From ${formatDate(usage.start)} to ${formatDate(usage.end)}.
    The last few seconds may not be counted yet.</p>`;
}

export function UsagePage() {
  const { granularity, setGranularity, usage } = useUsage("/api/v1/usage");
  const content =
    pending(usage, "usage", () => false, "") ||
    html`
      <${Period} usage=${usage.data} />
      <${StatusChart} data=${usage.data.data} />
      <${Totals} totals=${usage.data.totals} />
      <${RoutesTable} routes=${usage.data.routes} />
      <${CountsTable} title="API keys" nameColumn="API key" rows=${usage.data.api_keys}
        name=${(row) => (row.name === null ? html`<span class="muted">deleted key</span>` : html`<a href=${`/dashboard/api-keys/${row.id}/usage`}>${row.name}</a>`)}
        empty="No requests with API keys in this period." />
      <${CountsTable} title="End users" nameColumn="User" rows=${usage.data.users}
        name=${(row) => html`<a href=${`/dashboard/users/${row.user_id}`}><code>${row.user_id}</code></a>`}
        empty="No requests with SDK tokens in this period." />`;
  return html`
    <h1>Usage</h1>
    <p class="lead">Requests made with API keys and SDK tokens, by status class.</p>
    <${PeriodControls} granularity=${granularity} setGranularity=${setGranularity} usage=${usage} />
    ${content}`;
}

function DistinctIps({ data, granularity }) {
  const points = data.map((bucket) => ({ time: bucket.start, value: bucket.distinct_ips }));
  const most = Math.max(...points.map((point) => point.value));
  return html`
    <section aria-labelledby="ips-title">
      <h2 id="ips-title">Distinct client IPs</h2>
      <p>At most ${count.format(most)} distinct IP${most === 1 ? "" : "s"} in one ${granularity}.</p>
      <${LineChart} points=${points} label=${`Distinct IPs per ${granularity}`} unit="IPs" />
    </section>`;
}

export function ApiKeyUsagePage({ keyId }) {
  const path = `/api/v1/api-keys/${encodeURIComponent(keyId)}`;
  const apiKey = useLoad(() => request(path), [path]);
  const { granularity, setGranularity, usage } = useUsage(`${path}/usage`);
  const back = html`<p><a href="/dashboard/api-keys">← API keys</a></p>`;
  if (apiKey.loading && !apiKey.data) return html`${back}<h1>API key usage</h1><${Loading} what="the API key" />`;
  if (apiKey.error) return html`${back}<h1>API key usage</h1><${ErrorText} error=${apiKey.error} />`;
  const content =
    pending(usage, "usage", () => false, "") ||
    html`
      <${Period} usage=${usage.data} />
      <${StatusChart} data=${usage.data.data} />
      <${Totals} totals=${usage.data.totals} />
      <${DistinctIps} data=${usage.data.data} granularity=${granularity} />
      <${RoutesTable} routes=${usage.data.routes} />`;
  return html`
    ${back}
    <h1>Usage of ${apiKey.data.name}</h1>
    <p class="lead"><code>${apiKey.data.prefix}…</code> · ${apiKey.data.environment}</p>
    <${PeriodControls} granularity=${granularity} setGranularity=${setGranularity} usage=${usage} />
    ${content}`;
}
