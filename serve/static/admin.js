// The admin page: /v1/stats (coverage, take rates, learning curve) and /v1/policies (estimates).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const CURVE = { width: 900, height: 260, left: 48, right: 16, top: 16, bottom: 36 };

const fmt = (x, digits = 3) => (x === null || x === undefined ? "–" : Number(x).toFixed(digits));
const when = (t) => new Date(t * 1000).toLocaleString([], { dateStyle: "short", timeStyle: "short" });

// A table from column specs [{head, cell(row) → string or Node}].
function table(columns, rows) {
  const el = document.createElement("table");
  const head = el.createTHead().insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = c.head;
    head.append(th);
  }
  const body = el.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const c of columns) tr.insertCell().append(c.cell(row));
  }
  return el;
}

function rateBar(rate) {
  const span = document.createElement("span");
  const bar = document.createElement("span");
  bar.className = "bar-cell";
  bar.style.width = `${Math.round(60 * (rate || 0))}px`;
  span.append(bar, fmt(rate));
  return span;
}

function svg(tag, attributes, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function drawCurve(points, reward) {
  const box = $("curve");
  box.replaceChildren();
  if (!points.length) {
    $("curve-note").textContent = "No decisions logged yet.";
    return;
  }
  const n = points.reduce((s, p) => s + p.decisions, 0);
  const open = n - points.reduce((s, p) => s + p.closed, 0);
  $("curve-note").textContent = `Mean ${reward} reward of ${n} decisions in ${points.length} ` +
    `groups, oldest first` + (open ? ` (${open} windows still open count what they earned so far).` : ".");
  const { width, height, left, right, top, bottom } = CURVE;
  const yMax = Math.max(0.05, ...points.map((p) => p.mean_reward)) * 1.1;
  const x = (i) => left + (points.length === 1 ? 0.5 : i / (points.length - 1)) * (width - left - right);
  const y = (v) => top + (1 - v / yMax) * (height - top - bottom);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Mean reward over time, ${points.length} points` });
  chart.append(svg("line", { class: "axis", x1: left, y1: y(0), x2: width - right, y2: y(0) }),
    svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: y(0) }));
  for (const v of [0, yMax / 2, yMax]) {
    chart.append(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v, 2)));
  }
  chart.append(svg("text", { x: left, y: height - 10 }, when(points[0].start)),
    svg("text", { x: width - right, y: height - 10, "text-anchor": "end" },
      when(points[points.length - 1].end)));
  const path = points.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.mean_reward).toFixed(1)}`);
  chart.append(svg("path", { class: "line", d: path.join(" ") }));
  points.forEach((p, i) => {
    const dot = svg("circle", { class: "dot", cx: x(i), cy: y(p.mean_reward), r: 3.5 });
    dot.append(svg("title", {}, `${p.decisions} decisions, ${when(p.start)}–${when(p.end)}: ` +
      `mean reward ${fmt(p.mean_reward)}`));
    chart.append(dot);
  });
  box.append(chart);
}

function drawEstimates(policy) {
  const box = $("ope");
  box.replaceChildren();
  const about = `Serving ${policy.serving} (${policy.name} ${policy.version}, from ${policy.source}).`;
  const card = policy.offline_estimates;
  if (!card || !card.estimators) {
    $("ope-note").textContent = `${about} No off-policy estimate: the serving policy's card has ` +
      "none. Train a candidate with training/train_bandit and serve it with ARTWORK_POLICY_DIR.";
    return;
  }
  $("ope-note").textContent = `${about} Estimated on ${card.rounds ?? "?"} logged rounds.`;
  const rows = Object.entries(card.estimators).map(([name, e]) => ({ name, ...e }));
  if (card.logging) rows.push({ name: "logging policy (on-policy)", ...card.logging });
  box.append(table([
    { head: "estimator", cell: (r) => r.name },
    { head: "estimate", cell: (r) => fmt(r.estimate) },
    { head: "interval", cell: (r) => (r.low === undefined ? r.note || "–" : `[${fmt(r.low)}, ${fmt(r.high)}]`) },
    { head: "ESS", cell: (r) => fmt(r.ess, 1) },
  ], rows));
  if (card.gate) {
    const gate = document.createElement("p");
    gate.className = "note";
    gate.textContent = `Promotion gate: ${card.gate.reason}`;
    box.append(gate);
  }
}

function drawTakeRates(artwork) {
  $("take").replaceChildren(artwork.length ? table([
    { head: "artwork", cell: (a) => a.artwork_id },
    { head: "title", cell: (a) => a.title_id },
    { head: "decisions", cell: (a) => String(a.decisions) },
    { head: "impressions", cell: (a) => String(a.impressions) },
    { head: "clicks", cell: (a) => String(a.clicks) },
    { head: "take rate", cell: (a) => rateBar(a.take_rate) },
    { head: "closed", cell: (a) => String(a.closed_decisions) },
    { head: "quality plays", cell: (a) => String(a.quality_plays) },
    { head: "bait index", cell: (a) => fmt(a.bait_index) },
  ], artwork) : "No decisions logged yet.");
}

function drawCoverage(coverage) {
  if (coverage === null) {
    $("tags-note").textContent = "The serving policy loads no tag features (uniform), so tag " +
      "coverage is not known here.";
    $("tags").replaceChildren();
    return;
  }
  const images = coverage.reduce((s, t) => s + t.images, 0);
  const tagged = coverage.reduce((s, t) => s + t.tagged, 0);
  $("tags-note").textContent = `${tagged} of ${images} images carry tags.`;
  $("tags").replaceChildren(table([
    { head: "title", cell: (t) => `${t.name} (${t.title_id})` },
    { head: "images", cell: (t) => String(t.images) },
    { head: "tagged", cell: (t) => String(t.tagged) },
    { head: "coverage", cell: (t) => rateBar(t.images ? t.tagged / t.images : null) },
    { head: "confident tags / image", cell: (t) => fmt(t.mean_confident_tags, 1) },
  ], coverage));
}

async function refresh() {
  setStatus("Loading…");
  try {
    const [stats, policies] = await Promise.all([api("/v1/stats"), api("/v1/policies")]);
    drawCurve(stats.curve, stats.reward);
    drawEstimates(policies.policy);
    drawTakeRates(stats.artwork);
    drawCoverage(stats.coverage);
    setStatus(`${stats.decisions} decisions and ${stats.events} events logged, as of ${when(stats.at)}`);
  } catch (err) {
    setStatus(`Could not load the statistics: ${err.message}`, true);
  }
}

$("refresh").addEventListener("click", refresh);
refresh();
