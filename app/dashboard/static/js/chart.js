// A line chart of one time series as plain SVG: one type at a time and at most a page of
// samples (1000) needs no charting library, and SVG is styled by the stylesheet, so the
// strict Content-Security-Policy holds.
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

export function LineChart({ points, label, unit }) {
  const times = points.map((point) => new Date(point.time).getTime());
  const values = points.map((point) => point.value);
  const [firstTime, lastTime] = bounds(times);
  const [low, high] = bounds(values);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (time) => PAD.left + ((time - firstTime) / (lastTime - firstTime)) * plotWidth;
  const y = (value) => PAD.top + (1 - (value - low) / (high - low)) * plotHeight;
  const path = points.map((_, index) => `${index ? "L" : "M"}${x(times[index]).toFixed(1)},${y(values[index]).toFixed(1)}`).join("");
  const spansDays = lastTime - firstTime > 2 * 24 * 3600 * 1000;
  const ticks = Array.from({ length: TICKS + 1 }, (_, index) => index / TICKS);
  const summary = `${label}: ${points.length} samples from ${timeLabel.format(firstTime)} to ${timeLabel.format(lastTime)}, ` +
    `between ${numberLabel.format(Math.min(...values))} and ${numberLabel.format(Math.max(...values))} ${unit}.`;
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
        <path class="series" d=${path} />
        ${points.length <= 60 && points.map((_, index) => html`<circle class="dot" cx=${x(times[index])} cy=${y(values[index])} r="3" />`)}
      </svg>
      <figcaption>${summary}</figcaption>
    </figure>`;
}
