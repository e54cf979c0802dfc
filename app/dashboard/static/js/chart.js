// Line charts as plain SVG: a few series of at most a page of samples (1000) need no
// charting library, and SVG is styled by the stylesheet, so the strict
// Content-Security-Policy holds. Several series share the axes and are told apart by a
// legend with their names and by dash pattern as well as colour.
import { html } from "../vendor/htm-preact-standalone.module.js";

const WIDTH = 960;
const HEIGHT = 220;
const PAD = { top: 16, right: 16, bottom: 36, left: 56 };
const TICKS = 4;

const dateLabel = new Intl.DateTimeFormat("en", { month: "short", day: "numeric" });
const timeLabel = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
const numberLabel = new Intl.NumberFormat("en", { maximumFractionDigits: 1 });

function bounds(values) {
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (low === high) {
    low -= 1;
    high += 1;
  }
  return [low, high];
}

/** One series: `points` of `{ time, value }`. */
export function LineChart({ points, label, unit }) {
  return MultiLineChart({ lines: [{ name: label, points }], label, unit });
}

/** Several series over the same range: `lines` of `{ name, points }`; `floor` (0 for
 * counts) is the bottom of the value axis. Dots mark the samples of a single short series
 * only: on several lines they would hide each other. */
export function MultiLineChart({ lines, label, unit, floor = null }) {
  const all = lines.flatMap((line) => line.points);
  const values = all.map((point) => point.value);
  const [firstTime, lastTime] = bounds(all.map((point) => new Date(point.time).getTime()));
  const [low, high] = floor === null ? bounds(values) : [floor, Math.max(floor + TICKS, ...values)];
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (time) => PAD.left + ((time - firstTime) / (lastTime - firstTime)) * plotWidth;
  const y = (value) => PAD.top + (1 - (value - low) / (high - low)) * plotHeight;
  const at = (point) => [x(new Date(point.time).getTime()), y(point.value)];
  const path = (points) => points.map((point, index) => `${index ? "L" : "M"}${at(point).map((n) => n.toFixed(1)).join(",")}`).join("");
  const spansDays = lastTime - firstTime > 2 * 24 * 3600 * 1000;
  const ticks = Array.from({ length: TICKS + 1 }, (_, index) => index / TICKS);
  const range = (points) => {
    const lineValues = points.map((point) => point.value);
    return `between ${numberLabel.format(Math.min(...lineValues))} and ${numberLabel.format(Math.max(...lineValues))}`;
  };
  const ranges = lines.length === 1 ? range(lines[0].points) : lines.map((line) => `${line.name} ${range(line.points)}`).join(", ");
  const summary = `${label}: ${lines[0].points.length} samples from ${timeLabel.format(firstTime)} to ${timeLabel.format(lastTime)}, ` +
    `${ranges} ${unit}.`;
  return html`
    <figure class="chart">
      <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label=${summary}>
        ${ticks.map((share) => {
          const value = low + share * (high - low);
          return html`<g class="grid">
            <line x1=${PAD.left} x2=${WIDTH - PAD.right} y1=${y(value)} y2=${y(value)} />
            <text x=${PAD.left - 8} y=${y(value) + 4} text-anchor="end">${numberLabel.format(value)}</text>
          </g>`;
        })}
        ${ticks.map((share) => {
          const time = firstTime + share * (lastTime - firstTime);
          const anchor = share === 0 ? "start" : share === 1 ? "end" : "middle";
          return html`<text class="axis" x=${x(time)} y=${HEIGHT - 12} text-anchor=${anchor}>
            ${(spansDays ? dateLabel : timeLabel).format(time)}</text>`;
        })}
        ${lines.map(
          (line, index) => html`<g class=${`line-${index}`}>
            <path class="series" d=${path(line.points)} />
            ${lines.length === 1 && line.points.length <= 60 && line.points.map((point) => html`<circle class="dot" cx=${at(point)[0]} cy=${at(point)[1]} r="3" />`)}
          </g>`,
        )}
      </svg>
      ${lines.length > 1 &&
      html`<ul class="legend" aria-label="Legend">
        ${lines.map(
          (line, index) => html`<li class=${`line-${index}`}>
            <svg viewBox="0 0 28 10" width="28" height="10" aria-hidden="true"><line class="series" x1="0" x2="28" y1="5" y2="5" /></svg>${line.name}
          </li>`,
        )}
      </ul>`}
      <figcaption>${summary}</figcaption>
    </figure>`;
}
