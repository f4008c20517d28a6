// The page: routes (/sessions/{ref}, /compare?s=..), presses, the scrubber, compare, the live channel.
// Everything it knows comes from the JSON API (docs/api.md); drawing is in draw.js.
"use strict";

const $ = (id) => document.getElementById(id);
const GRID = 32, CACHE = 4000;
const fmt = { step: (v) => String(v), loss: (v) => v.toFixed(4), accuracy: (v) => v.toFixed(3), score: (v) => v.toFixed(4) };
let server = { read_only: false }, view = null;

async function api(path, options = {}) {
  const init = { ...options, headers: { "Accept": "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) } };
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) { const e = new Error(body.error || `HTTP ${response.status}`); e.field = body.field; e.status = response.status; throw e; }
  return body;
}
const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) });

// Frames (states without the points) of one session, fetched one at a time: while a request is out, only
// the latest wanted step waits, so dragging never queues a backlog; each answer is cached.
class Frames {
  constructor(id, onFrame) { this.id = id; this.onFrame = onFrame; this.cache = new Map(); this.busy = false; this.wanted = null; }
  put(frame) {
    this.cache.set(frame.seq, frame);
    if (this.cache.size > CACHE) this.cache.delete(this.cache.keys().next().value);
  }
  want(seq) {
    this.wanted = seq;
    if (this.cache.has(seq)) { this.onFrame(this.cache.get(seq)); return; }
    if (!this.busy) this.fetchWanted();
  }
  async fetchWanted() {
    this.busy = true;
    try {
      while (this.wanted !== null && !this.cache.has(this.wanted)) {
        const frame = await api(`/api/sessions/${this.id}?at=${this.wanted}&points=false&grid=${GRID}`);
        this.put(frame);
        this.onFrame(frame);  // the newest answer is shown while a drag goes on
      }
    } catch (e) { console.warn(e); } finally { this.busy = false; }
    if (this.cache.has(this.wanted)) this.onFrame(this.cache.get(this.wanted));
  }
}

// draw at most once per animation frame, whatever arrives in between
function painter(paint) {
  let pending = null;
  return (value) => {
    const first = pending === null;
    pending = value;
    if (first) requestAnimationFrame(() => { const v = pending; pending = null; paint(v); });
  };
}

class SessionView {
  constructor(ref) { this.ref = ref; this.following = true; this.shown = null; this.timer = null; }

  async open() {
    const full = await api(`/api/sessions/${encodeURIComponent(this.ref)}?grid=${GRID}`);
    this.id = full.session_id; this.points = full.points; this.learner = full.learner; this.head = full.head;
    this.label = full.name || full.session_id.slice(0, 8);
    this.frames = new Frames(this.id, painter((frame) => this.paint(frame)));
    this.frames.put(full);
    $("title").textContent = this.label;
    const s = full.settings;
    $("subtitle").textContent = `${full.learner} · seed ${s.seed} · ${s.points} points · noise ${s.noise}` +
      (full.learner === "gradient" ? ` · lr ${s.lr}` : ` · step ${s.step} · discount ${s.discount}`);
    $("buttons").hidden = full.learner !== "thompson";
    $("thompson").hidden = full.learner !== "thompson";
    $("download-export").href = `/api/sessions/${this.id}/export`;
    $("download-gif").href = `/api/sessions/${this.id}/replay.gif`;
    $("compare-link").href = `/compare?s=${this.id}`;
    $("audit-verdict").textContent = "";
    this.setHead(full.head);
    this.show(full.head);
    document.title = `${this.label} · nnreplay`;
    $("session-view").hidden = false;
  }

  setHead(head) {
    this.head = head;
    const slider = $("scrubber");
    slider.max = String(head);
    if (this.following) slider.value = String(head);
    $("step-of").textContent = `${slider.value} / ${head}`;
  }

  show(seq) {
    $("scrubber").value = String(seq);
    $("step-of").textContent = `${seq} / ${this.head}`;
    this.frames.want(seq);
  }

  paint(frame) {
    this.shown = frame;
    NNDraw.board($("board"), this.points, frame);
    for (const key of ["loss", "accuracy", "score"]) $(`r-${key}`).textContent = fmt[key](frame[key]);
    $("r-step").textContent = String(frame.seq);
    $("head-hash").textContent = frame.session_head_hash;
    if (frame.posteriors) this.paintLearner(frame);
  }

  paintLearner(frame) {
    $("r-applied").textContent = frame.score.toFixed(3);
    const p = frame.event.payload, reward = p.reward === null || p.reward === undefined ? "-" : p.reward.toFixed(2);
    $("r-action").textContent = frame.event.type === "session_started" ? "no action yet" :
      `last action ${p.action} · reward credited ${reward}${p.button ? ` (${p.button})` : ""} · ` +
      (p.undone ? "the change before it was undone" : "nothing undone");
    const body = $("posteriors").tBodies[0];
    body.replaceChildren(...frame.posteriors.map((arm) => {
      const row = document.createElement("tr");
      row.innerHTML = `<td></td><td>${arm.mean.toFixed(2)}</td><td><div class="band"><span></span><i></i></div></td>`;
      row.cells[0].textContent = arm.action;
      const band = row.querySelector("span"), mark = row.querySelector("i");
      band.style.left = `${arm.low * 100}%`; band.style.width = `${(arm.high - arm.low) * 100}%`;
      mark.style.left = `${arm.mean * 100}%`;
      row.title = `${arm.low.toFixed(2)} to ${arm.high.toFixed(2)}`;
      return row;
    }));
  }

  scrubTo(seq) {
    seq = Math.max(1, Math.min(this.head, seq));
    this.following = seq === this.head;
    $("fork-offer").hidden = true;
    this.show(seq);
  }

  // presses go out one after another, in the order they were made
  press(name) {
    this.queue = (this.queue || Promise.resolve()).then(() => this.pressNow(name));
    return this.queue;
  }

  async pressNow(name) {
    $("press-error").textContent = "";
    if (!this.following) { this.offerFork(name); return; }
    try {
      const frame = await post(`/api/sessions/${this.id}/presses`, { press: name });
      this.frames.put(frame);
      if (frame.head >= this.head) { this.setHead(frame.head); if (this.following) this.show(frame.head); }
    } catch (e) { $("press-error").textContent = e.message; }
  }

  offerFork(name) {
    const at = Number($("scrubber").value);
    $("fork-text").textContent = `You are looking at step ${at} of ${this.head}. A press records at the head. ` +
      `Fork a new session that shares steps 1 to ${at}, and press "${name === "next" ? "Next iteration" : name}" there?`;
    $("fork-offer").hidden = false;
    $("fork-here").onclick = async () => {
      try {
        const made = await post(`/api/sessions/${this.id}/fork`, { at });
        await post(`/api/sessions/${made.id}/presses`, { press: name });
        navigate(`/sessions/${made.id}`);
      } catch (e) { $("press-error").textContent = e.message; }
    };
    $("to-head").onclick = () => this.scrubTo(this.head);
    $("fork-cancel").onclick = () => { $("fork-offer").hidden = true; };
  }

  togglePlay() {
    if (this.timer) { this.stopPlay(); return; }
    if (this.following || Number($("scrubber").value) >= this.head) this.scrubTo(1);
    $("play").textContent = "Pause"; $("play").setAttribute("aria-pressed", "true");
    const stride = Math.max(1, Math.round(this.head / 600));   // a history plays in about ten seconds at most
    this.timer = setInterval(() => {
      const next = Number($("scrubber").value) + stride;
      if (next >= this.head) { this.scrubTo(this.head); this.stopPlay(); } else this.scrubTo(next);
    }, 1000 / 60);
  }

  stopPlay() {
    clearInterval(this.timer); this.timer = null;
    $("play").textContent = "Play"; $("play").setAttribute("aria-pressed", "false");
  }

  live(changed) {
    const head = changed[this.id];
    if (head !== undefined && head > this.head) { this.setHead(head); if (this.following) this.show(head); }
  }

  key(event) {
    const k = event.key;
    if (k === "n" || k === " ") { this.press("next"); return true; }
    if ("1234".includes(k) && k.length === 1 && this.learner === "thompson") { this.press(["bad", "meh", "good", "great"][Number(k) - 1]); return true; }
    const step = event.shiftKey ? 10 : 1, at = Number($("scrubber").value);
    if (k === "ArrowLeft" || k === "ArrowDown") { this.scrubTo(at - step); return true; }
    if (k === "ArrowRight" || k === "ArrowUp") { this.scrubTo(at + step); return true; }
    if (k === "Home") { this.scrubTo(1); return true; }
    if (k === "End") { this.scrubTo(this.head); return true; }
    return false;
  }

  close() { this.stopPlay(); $("session-view").hidden = true; $("fork-offer").hidden = true; }
}

class CompareView {
  constructor(refs) { this.refs = refs.slice(0, 4); this.panels = []; this.timer = null; }

  async open() {
    $("compare-view").hidden = false;
    const panels = $("panels");
    panels.replaceChildren();
    this.panels = await Promise.all(this.refs.map(async (ref, n) => {
      const full = await api(`/api/sessions/${encodeURIComponent(ref)}?grid=${GRID}`);
      const series = await api(`/api/sessions/${full.session_id}/metrics`);
      const figure = document.createElement("figure"), canvas = document.createElement("canvas"), caption = document.createElement("figcaption");
      canvas.width = 360; canvas.height = 360;
      const label = full.name || full.session_id.slice(0, 8);
      canvas.setAttribute("role", "img"); canvas.setAttribute("aria-label", `${label} at the shown step`);
      caption.style.color = NNDraw.SESSION_COLOURS[n];
      figure.append(canvas, caption);
      const panel = { id: full.session_id, label, points: full.points, head: full.head, series, canvas, caption };
      panel.frames = new Frames(panel.id, painter((frame) => this.paint(panel, frame)));
      panel.frames.put(full);
      return panel;
    }));
    panels.append(...this.panels.map((p) => p.canvas.parentElement));
    this.setLength();
    this.scrubTo(this.length);
    this.offerMore();
    document.title = `compare · nnreplay`;
  }

  offerMore() {
    const shown = new Set(this.panels.map((p) => p.id)), add = $("compare-add");
    add.replaceChildren(new Option("…", ""), ...sessions.filter((s) => !shown.has(s.id))
      .map((s) => new Option(s.name || s.id.slice(0, 8), s.id)));
    add.disabled = this.panels.length >= 4;
  }

  setLength() {
    this.length = Math.max(1, ...this.panels.map((p) => p.head));
    $("compare-scrubber").max = String(this.length);
  }

  paint(panel, frame) {
    NNDraw.board(panel.canvas, panel.points, frame);
    panel.caption.textContent = `${panel.label} · step ${frame.seq} · accuracy ${fmt.accuracy(frame.accuracy)} · ` +
      `loss ${fmt.loss(frame.loss)} · score ${fmt.score(frame.score)}`;
  }

  scrubTo(step) {
    step = Math.max(1, Math.min(this.length, step));
    $("compare-scrubber").value = String(step);
    $("compare-step").textContent = `${step} / ${this.length}`;
    for (const panel of this.panels) panel.frames.want(Math.min(step, panel.head));  // in step; a short run holds its end
    this.drawChart();
  }

  drawChart() { NNDraw.chart($("chart"), this.panels.map((p) => ({ label: p.label, ...p.series })), $("metric").value, Number($("compare-scrubber").value)); }

  togglePlay() {
    if (this.timer) { clearInterval(this.timer); this.timer = null; $("compare-play").textContent = "Play"; return; }
    if (Number($("compare-scrubber").value) >= this.length) this.scrubTo(1);
    $("compare-play").textContent = "Pause";
    const stride = Math.max(1, Math.round(this.length / 600));
    this.timer = setInterval(() => {
      const next = Number($("compare-scrubber").value) + stride;
      this.scrubTo(next);
      if (next >= this.length) this.togglePlay();
    }, 1000 / 60);
  }

  async live(changed) {
    for (const panel of this.panels) {
      if (changed[panel.id] !== undefined && changed[panel.id] > panel.head) {
        const atEnd = Number($("compare-scrubber").value) >= this.length;
        panel.head = changed[panel.id];
        panel.series = await api(`/api/sessions/${panel.id}/metrics`);
        this.setLength();
        if (atEnd) this.scrubTo(this.length); else this.drawChart();
      }
    }
  }

  key(event) {
    const step = event.shiftKey ? 10 : 1, at = Number($("compare-scrubber").value);
    if (event.key === "ArrowLeft" || event.key === "ArrowDown") { this.scrubTo(at - step); return true; }
    if (event.key === "ArrowRight" || event.key === "ArrowUp") { this.scrubTo(at + step); return true; }
    return false;
  }

  close() { if (this.timer) this.togglePlay(); $("compare-view").hidden = true; }
}

class HomeView {
  async open() { $("home-view").hidden = false; document.title = "nnreplay"; }
  live() {}
  key() { return false; }
  close() { $("home-view").hidden = true; }
}

// -- sessions list, routes, live channel --------------------------------------------------------------
let sessions = [];
async function refreshSessions() {
  sessions = await api("/api/sessions");
  const picker = $("session-picker"), current = view instanceof SessionView ? view.id : "";
  picker.replaceChildren(new Option("choose a session…", ""), ...sessions.map((s) =>
    new Option(`${s.name || s.id.slice(0, 8)} · ${s.learner} · ${s.events} events · acc ${s.accuracy.toFixed(3)}`, s.id)));
  picker.value = current;
  $("session-list").replaceChildren(...sessions.map((s) => {
    const item = document.createElement("li"), link = document.createElement("a");
    link.href = `/sessions/${s.id}`; link.textContent = s.name || s.id.slice(0, 8);
    item.append(link, ` ${s.learner}, ${s.events} events, accuracy ${s.accuracy.toFixed(3)}`);
    return item;
  }));
}
let sessionsTimer = null;
const refreshSessionsSoon = () => { clearTimeout(sessionsTimer); sessionsTimer = setTimeout(refreshSessions, 300); };

async function route() {
  if (view) view.close();
  const path = location.pathname, query = new URLSearchParams(location.search);
  try {
    if (path.startsWith("/sessions/")) view = new SessionView(decodeURIComponent(path.slice("/sessions/".length)));
    else if (path === "/compare" && query.getAll("s").length) view = new CompareView(query.getAll("s"));
    else view = new HomeView();
    await view.open();
    $("session-picker").value = view instanceof SessionView ? view.id : "";
    $("server-note").textContent = server.read_only ? "read-only" : "";
  } catch (e) {
    view = new HomeView(); await view.open();
    $("server-note").textContent = e.message;
  }
}

function navigate(path) { history.pushState(null, "", path); route(); }

// A browser keeps about six connections per server over HTTP/1.1, and each open stream holds one: a tab
// that is hidden closes its stream, and on its return the first message ("all" heads) catches it up.
let live = null;
function connectLive() {
  if (live || document.hidden) return;
  live = new EventSource("/api/live");
  live.addEventListener("heads", (message) => {
    const data = JSON.parse(message.data);
    if (view) view.live(data.changed);
    refreshSessionsSoon();
  });
}
document.addEventListener("visibilitychange", () => {
  if (document.hidden && live) { live.close(); live = null; } else connectLive();
});

// -- wiring ----------------------------------------------------------------------------------------------
const PRESETS = { supervised: { learner: "gradient", lr: 1 }, feedback: { learner: "thompson", step: 0.2 }, auto: { learner: "thompson", step: 0.2 } };

function wire() {
  $("session-picker").addEventListener("change", (e) => e.target.value && navigate(`/sessions/${e.target.value}`));
  $("compare-link").addEventListener("click", (e) => { e.preventDefault(); navigate(e.currentTarget.getAttribute("href")); });
  $("new-toggle").addEventListener("click", () => {
    const form = $("new-form"); form.hidden = !form.hidden; $("new-toggle").setAttribute("aria-expanded", String(!form.hidden));
  });
  for (const button of document.querySelectorAll("[data-preset]")) {
    button.addEventListener("click", () => {
      const preset = PRESETS[button.dataset.preset], form = $("new-form");
      for (const [k, v] of Object.entries(preset)) form.elements[k].value = String(v);
      form.elements.name.value = form.elements.name.value || button.dataset.preset;
    });
  }
  $("new-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.target, body = {};
    for (const [key, fallback] of Object.entries(server.settings)) {
      const field = form.elements[key];
      if (field && field.value.trim() !== "") body[key] = settingValue(field.value.trim(), key === "seed" ? 0 : fallback);
    }
    if (form.elements.name.value.trim()) body.name = form.elements.name.value.trim();
    try {
      const made = await post("/api/sessions", body);
      $("new-error").textContent = ""; form.hidden = true;
      await refreshSessions(); navigate(`/sessions/${made.id}`);
    } catch (err) {
      $("new-error").textContent = err.message;
      if (err.field && form.elements[err.field]) form.elements[err.field].focus();
    }
  });
  for (const button of document.querySelectorAll("[data-press]")) {
    button.addEventListener("click", () => view instanceof SessionView && view.press(button.dataset.press));
  }
  $("scrubber").addEventListener("input", (e) => view.scrubTo(Number(e.target.value)));
  $("play").addEventListener("click", () => view.togglePlay());
  $("compare-scrubber").addEventListener("input", (e) => view.scrubTo(Number(e.target.value)));
  $("compare-play").addEventListener("click", () => view.togglePlay());
  $("metric").addEventListener("change", () => view.drawChart());
  $("compare-add").addEventListener("change", (e) => {
    if (!e.target.value) return;
    const refs = [...new URLSearchParams(location.search).getAll("s"), e.target.value].slice(0, 4);
    navigate(`/compare?${refs.map((ref) => `s=${encodeURIComponent(ref)}`).join("&")}`);
  });
  $("audit").addEventListener("click", async () => {
    $("audit-verdict").textContent = "auditing…";
    try {
      const report = await api(`/api/sessions/${view.id}/audit`), session = report.sessions[0];
      const failed = session.checks.filter((c) => !c.ok);
      $("audit-verdict").textContent = report.ok ? `audit: every check holds (${session.events} events)` :
        `audit FAILED: ${failed.map((c) => `${c.check}${c.seq ? ` at seq ${c.seq}` : ""}: ${c.reason}`).join("; ")}`;
    } catch (e) { $("audit-verdict").textContent = e.message; }
  });
  document.addEventListener("keydown", (e) => {
    const t = e.target, tag = t.tagName;
    if (e.ctrlKey || e.metaKey || e.altKey || !view) return;
    if (tag === "INPUT" && t.type !== "range" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (t.type === "range" && e.key.startsWith("Arrow")) return;            // the slider moves itself
    if (e.key === " " && tag === "BUTTON") return;                            // space clicks the focused button
    if (view.key(e)) e.preventDefault();
  });
  window.addEventListener("popstate", route);
}

// a setting's value as the kind of its default: numbers, text, or a comma-separated list
function settingValue(text, fallback) {
  if (typeof fallback === "number") return Number(text);
  if (Array.isArray(fallback)) return text.split(",").map((part) => part.trim()).filter(Boolean)
    .map((part) => (part !== "" && !Number.isNaN(Number(part)) ? Number(part) : part));
  if (typeof fallback === "boolean") return text === "true";
  return text;
}

// settings the form does not spell out (the engine may gain some) get a plain field each, from the server
function addSettingFields() {
  const form = $("new-form"), before = form.elements.name.parentElement;
  for (const [key, fallback] of Object.entries(server.settings)) {
    if (form.elements[key]) continue;
    const label = document.createElement("label"), input = document.createElement("input");
    input.name = key; input.type = typeof fallback === "number" ? "number" : "text";
    if (input.type === "number") input.step = "any";
    input.value = Array.isArray(fallback) ? fallback.join(", ") : fallback === null ? "" : String(fallback);
    label.append(key, input);
    before.before(label);
  }
}

async function start() {
  wire();
  server = await api("/api/server");
  addSettingFields();
  if (server.read_only) {
    for (const b of document.querySelectorAll("[data-press], #new-toggle")) { b.disabled = true; b.title = "read-only server"; }
  }
  await refreshSessions();
  await route();
  connectLive();
}
start();
