// The viewer's page: rows of cards for a viewer; impressions, clicks, plays, likes and dislikes.
"use strict";

const EVENT_BATCH = 100; // well under the service's per-request limit
const IMPRESSION_DELAY_MS = 300; // impressions seen together go in one request

// Event ids are idempotency keys: a retried event is stored once.
function newEventId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function event(decisionId, type, eventId = newEventId()) {
  return { event_id: eventId, decision_id: decisionId, type, time: Date.now() / 1000 };
}

async function postEvents(events) {
  for (let i = 0; i < events.length; i += EVENT_BATCH) {
    await api("/v1/events", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify({ events: events.slice(i, i + EVENT_BATCH) }),
    });
  }
}

let toastTimer = null;
function toast(text) {
  const el = $("toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 2500);
}

// --- impressions: posted once a card is at least half visible --------------------------------

const pendingImpressions = [];
let impressionTimer = null;
const seen = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    seen.unobserve(entry.target);
    pendingImpressions.push(entry.target.impression);
  }
  clearTimeout(impressionTimer);
  impressionTimer = setTimeout(flushImpressions, IMPRESSION_DELAY_MS);
}, { threshold: 0.5 });

async function flushImpressions() {
  const batch = pendingImpressions.splice(0);
  if (!batch.length) return;
  try {
    await postEvents(batch);
  } catch (err) {
    setStatus(`Could not record impressions: ${err.message}`, true);
  }
}

// --- the "why this image" popover ------------------------------------------------------------

function showWhy(title, anchor) {
  const art = title.artwork;
  $("why-title").textContent = `Why this image for ${title.name}`;
  $("why-text").textContent = art.why;
  $("why-policy").textContent = art.policy;
  $("why-version").textContent = art.policy_version;
  $("why-propensity").textContent = art.propensity.toFixed(3);
  const pop = $("why");
  pop.showPopover();
  const box = anchor.getBoundingClientRect();
  const left = Math.min(box.left, window.innerWidth - pop.offsetWidth - 8);
  const below = box.bottom + 6 + pop.offsetHeight < window.innerHeight;
  pop.style.left = `${Math.max(8, left)}px`;
  pop.style.top = `${below ? box.bottom + 6 : Math.max(8, box.top - pop.offsetHeight - 6)}px`;
  $("why-close").focus();
}

// --- cards and rows --------------------------------------------------------------------------

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function actionButton(className, label, symbol) {
  const button = element("button", className, symbol);
  button.type = "button";
  button.setAttribute("aria-label", label);
  button.title = label;
  return button;
}

async function record(events, done, failure) {
  try {
    await postEvents(events);
    done();
  } catch (err) {
    toast(`${failure}: ${err.message}`);
  }
}

function card(title) {
  const art = title.artwork;
  const article = element("article", "card");
  article.dataset.decisionId = art.decision_id;
  article.dataset.titleId = title.title_id;
  // Sent when the card is seen and again (same id, stored once) with a click.
  article.impression = event(art.decision_id, "impression");

  const play = actionButton("play", `Play ${title.name}`);
  const img = element("img");
  img.src = art.image_url;
  img.alt = title.name;
  img.loading = "lazy";
  play.append(img, element("span", "name", title.name));
  play.addEventListener("click", () => record(
    [article.impression, event(art.decision_id, "click"), event(art.decision_id, "play")],
    () => { article.classList.add("played"); toast(`▶ Playing ${title.name}`); },
    "Could not record the play",
  ));

  const actions = element("div", "actions");
  for (const [type, label] of [["like", "Like"], ["dislike", "Dislike"]]) {
    const button = actionButton(type, `${label} ${title.name}`, label);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", () => record([event(art.decision_id, type)], () => {
      actions.querySelectorAll("[aria-pressed]").forEach((b) => b.setAttribute("aria-pressed", "false"));
      button.setAttribute("aria-pressed", "true");
      toast(`${label}d ${title.name}`);
    }, `Could not record the ${type}`));
    actions.append(button);
  }
  const why = actionButton("why", `Why this image for ${title.name}`, "Why?");
  why.setAttribute("aria-haspopup", "dialog");
  why.addEventListener("click", () => showWhy(title, why));
  actions.append(why);

  article.append(play, actions);
  return article;
}

function renderRows(home) {
  const container = $("rows");
  container.replaceChildren();
  seen.disconnect();
  pendingImpressions.length = 0;
  for (const row of home.rows) {
    const section = element("section", "row");
    const cards = element("div", "cards");
    for (const title of row.titles) {
      const c = card(title);
      cards.append(c);
      seen.observe(c);
    }
    section.append(element("h2", "", row.name), element("p", "reason", row.reason), cards);
    container.append(section);
  }
}

async function showHome(userId) {
  setStatus(`Loading ${userId}…`);
  const params = new URLSearchParams({
    user_id: userId, device: "web", hour: String(new Date().getHours()),
  });
  try {
    const home = await api(`/v1/home?${params}`);
    renderRows(home);
    const titles = home.rows.reduce((n, row) => n + row.titles.length, 0);
    setStatus(`${home.rows.length} rows, ${titles} titles for ${home.user_id}`);
  } catch (err) {
    $("rows").replaceChildren();
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
  $("why-close").addEventListener("click", () => $("why").hidePopover());
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
