// The page: routes (/sessions/{ref}, /compare?s=..), the sessions list, the live channel, the wiring.
// Everything it knows comes from the JSON API (docs/api.md); drawing is in draw.js, views in session.js
// and compare.js, shared parts in common.js.
"use strict";

let server = { read_only: false }, view = null;

class HomeView {
  async open() {
    $("home-view").hidden = false; document.title = "nnreplay";
    $("no-sessions").hidden = sessions.length > 0;
  }
  live() {}
  key() { return false; }
  close() { $("home-view").hidden = true; }
}

// -- sessions list, routes, live channel --------------------------------------------------------------
let sessions = [];
async function refreshSessions() {
  sessions = await api("/api/sessions");
  showSessions();
  if (view instanceof CompareView && view.panels) view.offerMore();  // a session started elsewhere can be added
}

function showSessions() {
  // a choice made but not yet confirmed (Open) survives the list being rebuilt by a live update
  const picker = $("session-picker"), current = picker.value || (view instanceof SessionView ? view.id : "");
  picker.replaceChildren(new Option("choose a session…", ""), ...sessions.map((s) =>
    new Option(`${shortName(s.name || s.id.slice(0, 8))} · ${s.learner} · ${countEvents(s.events)}`, s.id)));
  picker.value = current;
  if (view instanceof HomeView) $("no-sessions").hidden = sessions.length > 0;
  $("session-list").replaceChildren(...sessions.map((s) => {
    const item = document.createElement("li"), link = document.createElement("a");
    link.href = `/sessions/${s.id}`; link.textContent = s.name || s.id.slice(0, 8);
    item.append(link, ` ${s.learner}, ${countEvents(s.events)}, started ${s.created_at.slice(0, 19).replace("T", " ")}`);
    if (s.problem) {  // said in words: a session of nnreplay 0.1/0.2 on other arithmetic is not a broken one
      item.append(s.problem.verdict === "other arithmetic" ? " · recorded on other arithmetic (open it to re-press)"
        : ` · cannot be read from seq ${s.problem.seq}: ${s.problem.reason}`);
    }
    return item;
  }));
}

// Heads that moved update the counts in place; only a session the list has never seen makes it ask for
// the whole list again (which folds every session's state on the server), at most every two seconds.
let listedAt = 0, listTimer = null;
function followSessions(changed) {
  const known = new Map(sessions.map((s) => [s.id, s]));
  let unknown = false;
  for (const [id, seq] of Object.entries(changed)) {
    if (known.has(id)) known.get(id).events = seq; else unknown = true;
  }
  showSessions();
  if (unknown && !listTimer) {
    listTimer = setTimeout(async () => {
      listTimer = null; listedAt = Date.now();
      try { await refreshSessions(); } catch (e) { note("list", `the sessions list could not be read: ${e.message}`); }
    },
      Math.max(0, 2000 - (Date.now() - listedAt)));
  }
}

async function route() {
  if (view) view.close();
  const path = location.pathname, query = new URLSearchParams(location.search);
  document.body.classList.toggle("spotlight", spotlight());
  let ref = null;
  if (path.startsWith("/sessions/")) {
    try { ref = decodeURIComponent(path.slice("/sessions/".length)); } catch (e) { ref = null; }
  }
  if (ref) view = new SessionView(ref, query);
  else if (path === "/compare") view = new CompareView(query.getAll("s"));
  else view = new HomeView();
  // a quick second navigation may start before this one's answers arrive: only the newest view shows
  const opening = view;
  try {
    await opening.open();
    if (view !== opening) return;
    $("session-picker").value = view instanceof SessionView ? view.id : "";
    // an address the page has no view for (a malformed one, /sessions/%E0%A4%A) opens the list and says so
    note("route", view instanceof HomeView && path !== "/" ? `not found: nothing at ${shortName(path)}` : "");
  } catch (e) {
    if (view !== opening) return;
    view.close();
    view = new HomeView(); await view.open();
    note("route", e.message);
  }
}

// the header's note: read-only, and whatever is wrong now (a page that could not open, the live channel)
const problems = {};
function note(kind, text) {
  problems[kind] = text;
  $("server-note").textContent = [server.read_only ? "read-only" : "", ...Object.values(problems)]
    .filter(Boolean).join(" · ");
  $("server-note").classList.toggle("problem", Object.values(problems).some(Boolean));
}

// a navigation inside the page moves the focus to the new view's heading, which a screen reader then
// reads, as it would the title of a new page (the first load leaves the focus where the browser puts it)
async function navigate(path) {
  history.pushState(null, "", path);
  await route();
  if (view instanceof SessionView && !$("session-view").hidden) $("title").focus();
}

// A browser keeps about six connections per server over HTTP/1.1, and each open stream holds one: a tab
// that is hidden closes its stream, and on its return the first message ("all" heads) catches it up.
let live = null;
function connectLive() {
  if (live || document.hidden) return;
  live = new EventSource("/api/live");
  live.addEventListener("heads", (message) => {
    note("live", "");
    const data = JSON.parse(message.data);
    if (view) view.live(data.changed);
    followSessions(data.changed);
  });
  // a class paused or resumed by the teacher (a student's page lets presses through again at once)
  live.addEventListener("class", (message) => {
    const data = JSON.parse(message.data);
    if (server.class && typeof data.paused === "boolean") showClassPaused(data.paused);
  });
  // the browser retries by itself; meanwhile the page says that what it shows may be behind
  live.addEventListener("error", () => {
    note("live", "live updates lost: the server does not answer (retrying)");
  });
}
document.addEventListener("visibilitychange", () => {
  if (document.hidden && live) { live.close(); live = null; } else connectLive();
});

// -- class mode (docs/classes.md): who this page is for, and a class paused by the teacher ----------------
// "owner" (no class: everything as before), "student" (their own sessions), "teacher" (reads every
// session, presses none: the session page is read-only for them), "visitor" (sent to /join by the server)
const role = () => (server.you && server.you.role) || "owner";
const pressesAllowed = () => role() === "owner" || role() === "student";
const spotlight = () => new URLSearchParams(location.search).get("spotlight") === "1";
// a student's session is their lesson's demo (feedback and auto-scored are one learner pressed two ways)
const lessonDemo = () => (server.class ? { feedback: "feedback", "auto-scored": "auto" }[server.class.lesson] || null : null);

function arrangeForClass() {
  const student = role() === "student", teacher = role() === "teacher";
  document.body.classList.toggle("class-student", student);
  document.body.classList.toggle("class-teacher", teacher);
  if (!server.class) return;
  const banner = $("class-banner");
  banner.hidden = false;
  banner.textContent = student ? `Class ${server.class.name} · you are ${server.you.name}`
    : `Class ${server.class.name} · ${teacher ? "teacher" : role()}`;
  // a student starts sessions only in the lesson, whose settings are fixed: one button, no form
  $("new-toggle").hidden = true; $("new-form").hidden = true;
  $("new-lesson").hidden = !student;
  $("class-link").hidden = !teacher;
  $("demos-heading").hidden = true; $("demos").hidden = true;
  $("list-heading").textContent = student ? "Your sessions" : "Sessions in this class";
  $("no-sessions").textContent = student ? "None yet: \"New session in the lesson\" starts one." : "No session yet.";
  showClassPaused(Boolean(server.class.paused), true);
}

// The pause said twice: a visible notice beside the presses and once in the page's status region; the
// presses come back when the teacher resumes (the live channel's `class` event, or a press answered 423)
let classPaused = false;
function showClassPaused(paused, quietly = false) {
  const changed = paused !== classPaused;
  classPaused = paused;
  $("paused-notice").hidden = !paused;
  if (view instanceof SessionView && view.id) view.setPressable();
  if (changed && !quietly) {
    $("announce").textContent = paused ? "Your teacher has paused the class: presses wait until they resume it."
      : "Your teacher has resumed the class: you can press again.";
  }
}

async function newLessonSession() {
  try {
    const made = await post("/api/sessions", {});
    note("new", "");
    await refreshSessions();
    navigate(`/sessions/${made.id}`);
  } catch (e) { note("new", `a new session could not start: ${e.message}`); }
}

// -- wiring ----------------------------------------------------------------------------------------------
function wire() {
  // a list acts when its choice is confirmed (Open, or Enter), never on each change: arrowing through it
  // must not navigate (WCAG 3.2.2)
  const openPicked = () => $("session-picker").value && navigate(`/sessions/${$("session-picker").value}`);
  $("open-session").addEventListener("click", openPicked);
  $("session-picker").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); openPicked(); } });
  $("compare-link").addEventListener("click", (e) => { e.preventDefault(); navigate(e.currentTarget.getAttribute("href")); });
  wireForm();
  for (const button of document.querySelectorAll("[data-press]")) {
    button.addEventListener("click", () => view instanceof SessionView && view.press(button.dataset.press));
  }
  for (const button of document.querySelectorAll("[data-start]")) {
    button.addEventListener("click", () => startDemo(button.dataset.start));
  }
  $("next10").addEventListener("click", () => view instanceof SessionView && view.press("next", 10));
  $("new-lesson").addEventListener("click", newLessonSession);
  $("repress").addEventListener("click", () => view instanceof SessionView && view.repress());
  $("train").addEventListener("click", () => view instanceof SessionView && view.train());
  $("curve").addEventListener("click", (e) => view instanceof SessionView && view.pickOnCurve(e));
  $("scrubber").addEventListener("input", (e) => view.scrubTo(Number(e.target.value)));
  $("play").addEventListener("click", () => view.togglePlay());
  $("compare-scrubber").addEventListener("input", (e) => view.scrubTo(Number(e.target.value)));
  $("compare-play").addEventListener("click", () => view.togglePlay());
  $("metric").addEventListener("change", () => view.drawChart());
  const addPicked = () => {
    const chosen = $("compare-add").value;
    if (!chosen) return;
    navigate(compareAddress([...new URLSearchParams(location.search).getAll("s"), chosen].slice(0, 4)));
  };
  $("compare-add-go").addEventListener("click", addPicked);
  $("compare-add").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); addPicked(); } });
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
    if (tag === "INPUT" && t.type !== "range" || tag === "SELECT" || tag === "TEXTAREA" || tag === "SUMMARY") return;
    if (t.closest("form")) return;                                            // keys in the new-session form are its own
    if (t.type === "range" && e.key.startsWith("Arrow") && !e.shiftKey) return;  // the slider moves itself; Shift: ten
    if (e.key === " " && tag === "BUTTON") return;                            // space clicks the focused button
    if (view.key(e)) e.preventDefault();
  });
  window.addEventListener("popstate", route);
}

async function start() {
  wire();
  try {
    server = await api("/api/server");
    addSettingFields();
    arrangeForClass();
    if (server.read_only) {
      for (const b of document.querySelectorAll("[data-press], [data-start], #new-toggle, #next10, #train")) { b.disabled = true; b.title = "read-only server"; }
    }
    await refreshSessions();
  } catch (e) {
    note("start", `the page could not start: ${e.message}`);
    return;
  }
  await route();
  connectLive();
}
start();
// canvases drawn at the size they are shown: a new window size redraws them
window.addEventListener("resize", painter(() => {
  if (view instanceof CompareView) view.drawChart();
  if (view instanceof SessionView && view.shown) view.paint(view.shown);
}));
