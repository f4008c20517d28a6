// What every view shares: the JSON API, a cache of frames per session, drawing once per animation frame.
"use strict";

const $ = (id) => document.getElementById(id);
// the board's grid: fine enough that the interpolated bands and the contour follow the model closely; the
// network diagram's unit heatmaps are small and need less
// frames kept per session: a 64 x 64 frame with its network is ~60 KB in the page, so 1,000 stay under 64 MB
const GRID = 64, UNITS = 16, CACHE = 1000;
// as `show` prints them
const fmt = { step: (v) => String(v), loss: (v) => v.toFixed(4), accuracy: (v) => v.toFixed(3), score: (v) => v.toFixed(4),
  test_loss: (v) => v.toFixed(4), test_accuracy: (v) => v.toFixed(3) };

// one step vocabulary with `frame`, `replay` and `show`: step N is N presses since the start, seq N + 1
const stepWords = (seq, head) => `step ${seq - 1} of ${head - 1}`;
const countEvents = (n) => `${n} event${n === 1 ? "" : "s"}`;
// a name in a list of choices: its start and its end, so that names alike at the start stay apart
const shortName = (name) => (name.length > 48 ? `${name.slice(0, 30)}…${name.slice(-16)}` : name);

async function api(path, options = {}) {
  const headers = { "Accept": "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) };
  const init = { ...options, headers };
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {  // no answer at all: the server stopped, or the network is gone
    throw new Error("the server did not answer: is `nnreplay serve` still running?");
  }
  const body = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  if (!response.ok) {
    const error = new Error(body.error || `HTTP ${response.status}`);
    error.field = body.field; error.status = response.status;
    error.retryAfter = response.headers.get("Retry-After");  // a 429 says when to try again
    throw error;
  }
  return body;
}
const post = (path, body) => api(path, { method: "POST", body: JSON.stringify(body) });

// Frames (states without the points) of one session, fetched one at a time: while a request is out, only
// the latest wanted step waits, so dragging never queues a backlog; each answer is cached.
// A failed fetch is handed to `onError` (the view shows it), and the next wanted step tries again.
class Frames {
  constructor(id, onFrame, onError, extra = "") {
    this.id = id; this.onFrame = onFrame; this.onError = onError; this.cache = new Map(); this.busy = false; this.wanted = null;
    this.extra = extra;
  }
  put(frame) {
    // the data set's rule is the same at every step: frames asked without it share the first one's
    if (frame.truth === undefined) frame.truth = this.truth;    // asked without it (?truth=false)
    else this.truth = frame.truth;
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
        const frame = await api(`/api/sessions/${this.id}?at=${this.wanted}&points=false&grid=${GRID}${this.extra}`);
        this.put(frame);
        this.onFrame(frame);  // the newest answer is shown while a drag goes on
      }
      this.onError(null);
    } catch (e) {
      this.onError(new Error(`step ${this.wanted} could not be shown: ${e.message}`));
      this.wanted = null;
    } finally { this.busy = false; }
    if (this.wanted !== null && this.cache.has(this.wanted)) this.onFrame(this.cache.get(this.wanted));
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
