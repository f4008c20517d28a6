// The join page (/join): a student types the class's code and a display name; the server answers with
// their session (and a cookie), or says which field is wrong. Errors are said next to their field.
"use strict";

const FIELDS = ["code", "name"];

// the code as the teacher's screen shows it, however it was typed: the server compares it in its own form
// and accepts dashes, spaces and small letters; only what is around it is trimmed here
const typedCode = (text) => text.trim();

function clearProblems() {
  for (const field of FIELDS) {
    $(field).removeAttribute("aria-invalid");
    $(`${field}-error`).textContent = "";
  }
  $("join-problem").hidden = true; $("join-problem").textContent = "";
}

// a refusal naming a field is said beside it, which is marked invalid and focused (its label, hint and
// error are then read together); any other is said above the button
function showProblem(message, field) {
  if (FIELDS.includes(field)) {
    $(`${field}-error`).textContent = message;
    $(field).setAttribute("aria-invalid", "true");
    $(field).focus();
  } else {
    $("join-problem").textContent = message;
    $("join-problem").hidden = false;
  }
}

// "Retry-After: 42" (seconds) or an HTTP date, in words
function retryWords(header) {
  if (!header) return "in a minute";
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : Math.round((Date.parse(header) - Date.now()) / 1000);
  if (!Number.isFinite(seconds) || seconds <= 0) return "now";
  const at = new Date(Date.now() + seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  return `in ${seconds} second${seconds === 1 ? "" : "s"} (at ${at})`;
}

function explain(error) {
  if (error.status === 409) {
    return ["The class is full: no more students can join it. Ask your teacher.", null];
  }
  if (error.status === 429) {
    return [`Too many wrong codes from this computer: try again ${retryWords(error.retryAfter)}.`, null];
  }
  return [error.message, error.field];
}

async function join(event) {
  event.preventDefault();
  clearProblems();
  const code = typedCode($("code").value), name = $("name").value.trim();
  if (!code) { showProblem("Type the join code your teacher shows.", "code"); return; }
  if (!name) { showProblem("Type the name the class will see (1 to 40 characters).", "name"); return; }
  $("join").disabled = true;
  $("join-status").textContent = "joining…";
  try {
    const joined = await post("/api/join", { code, name });
    $("join-status").textContent = `joined as ${joined.name}: opening your session`;
    location.assign(joined.page || `/sessions/${encodeURIComponent(joined.session)}`);
  } catch (e) {
    $("join-status").textContent = "";
    showProblem(...explain(e));
  } finally {
    $("join").disabled = false;
  }
}

async function start() {
  $("join-form").addEventListener("submit", join);
  try {
    const server = await api("/api/server");
    const you = server.you || {};
    if (!server.class) {
      showProblem("This server runs no class: there is nothing to join. Its sessions are at /.", null);
      $("join").disabled = true;
      return;
    }
    const mine = Array.isArray(you.sessions) ? you.sessions[0] : null;
    if (you.role === "student" && mine) {   // already joined (the server sends them on too): back to it
      location.replace(`/sessions/${encodeURIComponent(mine)}`);
      return;
    }
    $("join-title").textContent = `Join the class ${server.class.name}`;
    document.title = `Join ${server.class.name} · nnreplay`;
  } catch (e) {
    showProblem(`The page could not reach the server: ${e.message}`, null);
  }
}
start();
