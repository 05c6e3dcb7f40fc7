// The home page: fetch rows for a viewer, render cards, and report impressions, clicks and plays.
"use strict";

const EVENT_BATCH = 100; // well under the service's per-request limit

const $ = (id) => document.getElementById(id);

// Event ids are idempotency keys: a retried batch is stored once.
function newEventId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function event(decisionId, type, eventId = newEventId()) {
  return { event_id: eventId, decision_id: decisionId, type, time: Date.now() / 1000 };
}

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problems = (body.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new Error(problems || body.detail || `${response.status} ${response.statusText}`);
  }
  return body;
}

async function postEvents(events) {
  let accepted = 0;
  let duplicates = 0;
  for (let i = 0; i < events.length; i += EVENT_BATCH) {
    const result = await api("/v1/events", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ events: events.slice(i, i + EVENT_BATCH) }),
    });
    accepted += result.accepted;
    duplicates += result.duplicates;
  }
  return { accepted, duplicates };
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

let toastTimer = null;
function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

function card(title) {
  const art = title.artwork;
  const button = document.createElement("button");
  button.className = "card";
  button.type = "button";
  button.title = `${title.name}\n${art.why}\npolicy ${art.policy}, p = ${art.propensity.toFixed(3)}`;

  const img = document.createElement("img");
  img.src = art.image_url;
  img.alt = title.name;
  img.loading = "lazy";
  const name = document.createElement("div");
  name.className = "name";
  name.textContent = title.name;
  const odds = document.createElement("span");
  odds.className = "odds";
  odds.textContent = `p = ${art.propensity.toFixed(3)}`;
  button.append(img, name, odds);

  // The impression posted at render time is re-sent with the same id on click, so it is
  // stored once whether or not the first post got through.
  const impression = event(art.decision_id, "impression");
  button.addEventListener("click", async () => {
    try {
      await postEvents([impression, event(art.decision_id, "click"), event(art.decision_id, "play")]);
      button.classList.add("played");
      toast(`▶ Playing ${title.name}`);
    } catch (err) {
      toast(`Could not record the play: ${err.message}`);
    }
  });
  return { element: button, impression };
}

function renderRows(home) {
  const container = $("rows");
  container.replaceChildren();
  const impressions = [];
  for (const row of home.rows) {
    const section = document.createElement("section");
    section.className = "row";
    const heading = document.createElement("h2");
    heading.textContent = row.name;
    const reason = document.createElement("p");
    reason.className = "reason";
    reason.textContent = row.reason;
    const cards = document.createElement("div");
    cards.className = "cards";
    for (const title of row.titles) {
      const c = card(title);
      cards.append(c.element);
      impressions.push(c.impression);
    }
    section.append(heading, reason, cards);
    container.append(section);
  }
  return impressions;
}

async function showHome(userId) {
  setStatus(`Loading ${userId}…`);
  const params = new URLSearchParams({
    user_id: userId, device: "web", hour: String(new Date().getHours()),
  });
  try {
    const home = await api(`/v1/home?${params}`);
    const impressions = renderRows(home);
    const titles = home.rows.reduce((n, row) => n + row.titles.length, 0);
    setStatus(`${home.rows.length} rows, ${titles} titles for ${home.user_id}`);
    if (impressions.length) await postEvents(impressions);
  } catch (err) {
    setStatus(`Could not load the home page: ${err.message}`, true);
  }
}

function chooseViewer(userId) {
  const url = new URL(window.location);
  url.searchParams.set("user", userId);
  history.replaceState(null, "", url);
  const select = $("viewer-select");
  if ([...select.options].some((o) => o.value === userId)) select.value = userId;
  showHome(userId);
}

async function start() {
  const select = $("viewer-select");
  let viewers = [];
  try {
    viewers = (await api("/v1/viewers")).viewers;
  } catch (err) {
    setStatus(`Could not list viewers: ${err.message}`, true);
  }
  for (const id of viewers) select.add(new Option(id, id));
  select.add(new Option("(new viewer)", "guest"));

  select.addEventListener("change", () => { $("viewer-input").value = ""; chooseViewer(select.value); });
  $("viewer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const typed = $("viewer-input").value.trim();
    chooseViewer(typed || select.value);
  });

  const fromUrl = new URLSearchParams(window.location.search).get("user");
  chooseViewer(fromUrl || viewers[0] || "guest");
}

start();
