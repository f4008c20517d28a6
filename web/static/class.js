// The teacher's overview (/class): how to join, every student's board as a small canvas with their numbers,
// live; sort, spotlight (the session page, read-only), compare, pause, export and audit. Everything comes
// from the class API (docs/api.md); a board is drawn from the server's 8-bit grid, never from a model.
"use strict";

const BOARD_GRID = 24, BOARD_CSS = 150, CHUNK = 80;
const cards = new Map();   // a student's board session id -> its card: elements, numbers, the seq drawn
let klass = null, sortKey = "name", selected = [];

// -- drawing: one palette lookup per cell, the 0.5 contour, the points; a few hundred operations a board
const LUT = (() => {           // byte b (round(255 p), p the model's probability of red) -> the page's band
  const table = new Uint8ClampedArray(256 * 3);
  for (let b = 0; b < 256; b++) table.set(NNDraw.band(b / 255), 3 * b);
  return table;
})();
const cellCanvas = document.createElement("canvas");
const bytesOf = (text) => Uint8Array.from(atob(text || ""), (c) => c.charCodeAt(0));

function drawBoard(canvas, board, grid) {
  const ratio = window.devicePixelRatio || 1, size = Math.round(BOARD_CSS * ratio);
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d"), cells = bytesOf(board.probabilities), n = grid;
  if (cells.length !== n * n) {     // a session whose log does not fold to its record has no picture
    ctx.fillStyle = "#e6e6e6"; ctx.fillRect(0, 0, size, size);
    return;
  }
  cellCanvas.width = n; cellCanvas.height = n;
  const cctx = cellCanvas.getContext("2d"), image = cctx.createImageData(n, n), data = image.data;
  for (let k = 0; k < n * n; k++) {        // rows from the top, as the image's rows run
    const o = 4 * k, c = 3 * cells[k];
    data[o] = LUT[c]; data[o + 1] = LUT[c + 1]; data[o + 2] = LUT[c + 2]; data[o + 3] = 255;
  }
  cctx.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(cellCanvas, 0, 0, size, size);
  // the model's boundary: NNDraw's contour takes rows from the bottom, in [0, 1]
  const rows = [];
  for (let i = n - 1; i >= 0; i--) rows.push(Array.from(cells.subarray(i * n, (i + 1) * n), (b) => b / 255));
  const px = (x) => (x + 1) / 2 * size, py = (y) => (1 - y) / 2 * size;
  ctx.strokeStyle = NNDraw.INK; ctx.lineWidth = 1.5 * ratio; ctx.lineJoin = "round"; ctx.beginPath();
  for (const line of NNDraw.chain(NNDraw.contour(rows, 0.5))) {
    ctx.moveTo(px(line[0][0]), py(line[0][1]));
    for (let k = 1; k < line.length; k++) ctx.lineTo(px(line[k][0]), py(line[k][1]));
  }
  ctx.stroke();
  const points = bytesOf(board.points), r = Math.max(2, size / 60);
  ctx.lineWidth = ratio; ctx.strokeStyle = "#ffffff";
  for (let k = 0; k + 2 < points.length; k += 3) {   // x and y as bytes over [-1, 1], then the true label
    ctx.beginPath();
    ctx.arc(px(points[k] / 255 * 2 - 1), py(points[k + 1] / 255 * 2 - 1), r, 0, 2 * Math.PI);
    ctx.fillStyle = points[k + 2] ? NNDraw.RED : NNDraw.BLUE; ctx.fill(); ctx.stroke();
  }
}

// -- the cards: made once per student, then only their canvas and numbers change (no re-layout of the grid)
const number = (v, digits) => (v === null || v === undefined ? "-" : Number(v).toFixed(digits));

function makeCard(student) {
  const item = document.createElement("li"), link = document.createElement("a"), canvas = document.createElement("canvas");
  const who = document.createElement("span"), hidden = document.createElement("span"), numbers = document.createElement("p");
  item.className = "card";
  link.className = "spot"; link.href = `/sessions/${encodeURIComponent(student.session)}?spotlight=1`;
  canvas.setAttribute("aria-hidden", "true"); canvas.width = BOARD_CSS; canvas.height = BOARD_CSS;
  hidden.className = "visually-hidden"; hidden.textContent = "Spotlight ";
  who.className = "who"; who.textContent = student.name;          // a name is text, never markup
  link.append(canvas, hidden, who);
  numbers.className = "numbers";
  const field = (label) => {
    const part = document.createElement("span"), value = document.createElement("b");
    part.append(`${label} `, value);
    numbers.append(part);
    return [part, value];
  };
  const [, presses] = field("presses"), [, accuracy] = field("accuracy"), [, score] = field("score");
  const [heldPart, held] = field("held-out");
  const pick = document.createElement("label"), box = document.createElement("input"), boxName = document.createElement("span");
  pick.className = "pick";
  box.type = "checkbox";
  box.addEventListener("change", () => choose(student.session, box.checked));
  boxName.className = "visually-hidden"; boxName.textContent = ` ${student.name}`;
  pick.append(box, "compare", boxName);
  const problem = document.createElement("p");
  problem.className = "error"; problem.hidden = true;
  item.append(link, numbers, problem, pick);
  return { item, canvas, box, presses, accuracy, score, held, heldPart, problem, seq: 0, student: { ...student } };
}

function setNumbers(card, values) {
  Object.assign(card.student, values);
  const s = card.student;
  card.presses.textContent = String(s.presses ?? 0);
  card.accuracy.textContent = number(s.accuracy, 3);
  card.score.textContent = number(s.score, 3);
  card.held.textContent = number(s.held_out_accuracy, 3);
  card.heldPart.hidden = s.held_out_accuracy === null || s.held_out_accuracy === undefined;
}

function compareCards(a, b) {
  const byName = a.student.name.localeCompare(b.student.name, undefined, { numeric: true, sensitivity: "base" });
  if (sortKey === "progress") return (b.student.presses ?? 0) - (a.student.presses ?? 0) || byName;
  if (sortKey === "accuracy") return (b.student.accuracy ?? -1) - (a.student.accuracy ?? -1) || byName;
  return byName;
}

// the order changes when asked (a sort button), never under the teacher's pointer on each press
function sortCards() {
  $("boards").append(...[...cards.values()].sort(compareCards).map((card) => card.item));
}

// -- the class: its header, the join card, the students (new ones get a card and their board is fetched)
async function loadClass() {
  klass = await api("/api/class");
  $("class-title").textContent = `Class ${klass.class}`;
  document.title = `${klass.class} · class overview · nnreplay`;
  $("join-address").textContent = klass.join.address;
  $("join-code").textContent = klass.join.code;
  showPaused(klass.paused);
  addStudents(klass.students);
  for (const student of klass.students) {
    const card = cards.get(student.session);
    if (card.seq === 0 || card.student.presses === undefined) setNumbers(card, student);
  }
}

function showCount() {
  const n = cards.size;
  $("class-line").textContent = `lesson: ${klass.lesson} · ${n} of at most ${klass.max_students} students`;
  $("student-count").textContent = `(${n})`;
  $("no-students").hidden = n > 0;
}

// students ({session, name}) the page has no card for get one, and their boards are fetched
function addStudents(students) {
  const fresh = [];
  for (const student of students) {
    if (cards.has(student.session)) continue;
    const card = makeCard(student);
    setNumbers(card, {});      // "presses 0" and dashes until its board arrives
    cards.set(student.session, card);
    fresh.push(card);
  }
  if (fresh.length) {
    if (sortKey === "name") sortCards(); else $("boards").append(...fresh.map((card) => card.item));
    want(fresh.map((card) => card.student.session));
  }
  showCount();
}

// boards to fetch: those whose head moved; one request at a time, each for at most CHUNK of them
const wanted = new Set();
let fetching = false;
function want(ids) {
  for (const id of ids) wanted.add(id);
  if (!fetching) fetchBoards();
}
async function fetchBoards() {
  fetching = true;
  try {
    while (wanted.size) {
      const ids = [...wanted].slice(0, CHUNK);
      for (const id of ids) wanted.delete(id);
      const answer = await api(`/api/class/boards?grid=${BOARD_GRID}&sessions=${ids.map(encodeURIComponent).join(",")}`);
      for (const board of answer.boards) {
        const card = cards.get(board.session);
        if (!card || board.seq < card.seq) continue;    // an answer older than one already drawn
        card.seq = board.seq;
        setNumbers(card, board);
        drawBoard(card.canvas, board, answer.grid);
        card.problem.hidden = !board.problem;
        card.problem.textContent = board.problem ? `cannot be drawn: ${board.problem}` : "";
        card.item.dataset.seq = String(board.seq);   // the seq drawn: what a test or a script waits for
      }
    }
    note("boards", "");
  } catch (e) {
    note("boards", `boards could not be read: ${e.message}`);
  } finally { fetching = false; }
}

// -- pause, compare, audit
let pausedShown = null;
function showPaused(paused) {
  if (paused === pausedShown) return;    // said once per change, not on every reload of the class
  pausedShown = paused;
  $("pause").setAttribute("aria-pressed", String(paused));
  $("pause-status").textContent = paused ? "Paused: no student can press until you press \"Pause the class\" again."
    : "Running: students can press.";
  document.body.classList.toggle("paused", paused);
}

async function togglePause() {
  const paused = $("pause").getAttribute("aria-pressed") !== "true";
  $("class-error").textContent = "";
  try {
    const answer = await post("/api/class/pause", { paused });
    showPaused(answer.paused);
  } catch (e) { $("class-error").textContent = `the class could not be ${paused ? "paused" : "resumed"}: ${e.message}`; }
}

function choose(id, on) {
  selected = selected.filter((s) => s !== id);
  if (on) selected.push(id);
  const n = selected.length;
  $("compare").disabled = n < 2 || n > 4;
  $("compare-count").textContent = n === 0 ? "select 2 to 4 boards" : n > 4 ? `${n} selected: compare takes at most 4`
    : `${n} selected${n < 2 ? ": select one more" : ""}`;
}

async function auditClass() {
  const verdict = $("audit-verdict");
  verdict.textContent = "auditing…";
  try {
    const report = await api("/api/class/audit");
    const failed = report.sessions.filter((s) => !s.ok);
    verdict.textContent = report.ok
      ? `audit: every check holds (${report.sessions.length} sessions, ${report.events} events)`
      : `audit FAILED: ${failed.map((s) => `${s.name || s.id.slice(0, 8)}: ${s.verdict}`).join("; ")}` +
        (report.guards && !report.guards.ok ? `; the database's guards: ${report.guards.reason}` : "");
  } catch (e) { verdict.textContent = `the audit could not run: ${e.message}`; }
}

// the header's note: whatever is wrong now (the live channel, a board fetch)
const problems = {};
function note(kind, text) {
  problems[kind] = text;
  $("server-note").textContent = Object.values(problems).filter(Boolean).join(" · ");
  $("server-note").classList.toggle("problem", Object.values(problems).some(Boolean));
}

// -- live: heads that moved fetch just those boards; a class event names who joined (their boards are
// fetched too); the whole class is read again when the stream (re)opens or its count differs from the cards
let live = null, classTimer = null;
function reloadClassSoon() {
  if (classTimer) return;
  classTimer = setTimeout(async () => {
    classTimer = null;
    try { await loadClass(); note("class", ""); } catch (e) { note("class", `the class could not be read: ${e.message}`); }
  }, 100);
}
function connectLive() {
  if (live || document.hidden) return;
  live = new EventSource("/api/live");
  live.addEventListener("heads", (message) => {
    note("live", "");
    const data = JSON.parse(message.data), moved = [];
    for (const [id, seq] of Object.entries(data.changed)) {
      const card = cards.get(id);
      if (card && seq !== card.seq) moved.push(id);
    }
    if (moved.length) want(moved);
    if (data.all) reloadClassSoon();   // (re)connected: students may have joined meanwhile
  });
  live.addEventListener("class", (message) => {
    const data = JSON.parse(message.data);
    if (typeof data.paused === "boolean") showPaused(data.paused);
    if (Array.isArray(data.joined) && klass) addStudents(data.joined);
    // a count the cards do not match (the stream's first message, a join missed while away): read the class
    if (!klass || data.students !== cards.size) reloadClassSoon();
  });
  live.addEventListener("error", () => note("live", "live updates lost: the server does not answer (retrying)"));
}
document.addEventListener("visibilitychange", () => {
  if (document.hidden && live) { live.close(); live = null; } else connectLive();
});

async function start() {
  $("pause").addEventListener("click", togglePause);
  $("audit").addEventListener("click", auditClass);
  $("compare").addEventListener("click", () => {
    location.assign(`/compare?${selected.map((id) => `s=${encodeURIComponent(id)}`).join("&")}`);
  });
  for (const button of document.querySelectorAll("[data-sort]")) {
    button.addEventListener("click", () => {
      sortKey = button.dataset.sort;
      for (const other of document.querySelectorAll("[data-sort]")) other.setAttribute("aria-pressed", String(other === button));
      sortCards();
    });
  }
  try {
    await loadClass();
  } catch (e) {
    $("class-error").textContent = e.status === 403 ? "This page is the teacher's: open the teacher's link that " +
      "`nnreplay serve --class` printed." : `the class could not be read: ${e.message}`;
    return;
  }
  connectLive();
}
start();
