// Shared by both pages: element lookup, JSON API calls with readable errors, the status line.
"use strict";

const $ = (id) => document.getElementById(id);

// An optional bearer token for writes, when the service sets ARTWORK_API_TOKEN:
// localStorage.setItem("artworkToken", "…") in the browser console.
function authHeaders() {
  const token = window.localStorage && localStorage.getItem("artworkToken");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new Error(`the service did not answer (${err.message})`);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const problems = (body.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new Error(problems || body.detail || `${response.status} ${response.statusText}`);
  }
  return body;
}

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}
