// The session view: one session, its presses, the scrubber, the fork offer, the learner's readouts.
"use strict";

const SHOWN_ARMS = 6;

class SessionView {
  constructor(ref) { this.ref = ref; this.following = true; this.shown = null; this.timer = null; }

  async open() {
    const full = await api(`/api/sessions/${encodeURIComponent(this.ref)}?grid=${GRID}`);
    if (view !== this) return;  // another address was opened meanwhile: it owns the view now
    this.id = full.session_id; this.points = full.points; this.learner = full.learner; this.head = full.head;
    this.label = full.name || full.session_id.slice(0, 8);
    this.frames = new Frames(this.id, painter((frame) => this.paint(frame)),
      (error) => { $("step-error").textContent = error ? error.message : ""; });
    this.frames.put(full);
    $("title").textContent = this.label;
    const s = full.settings;
    // and every other setting that differs from its default (the model, the data set, ...), named as sent
    const shown = new Set(["learner", "seed", "points", "noise", "lr", "step", "discount"]);
    const others = Object.entries(s).filter(([key, value]) => !shown.has(key) && key in server.settings &&
      JSON.stringify(value) !== JSON.stringify(server.settings[key]));
    $("subtitle").textContent = `${full.learner} · seed ${full.seed_text} · ${s.points} points · noise ${s.noise}` +
      (full.learner === "gradient" ? ` · lr ${s.lr}` : ` · step ${s.step} · discount ${s.discount}`) +
      others.map(([key, value]) => ` · ${key} ${Array.isArray(value) ? value.join(",") : value}`).join("");
    $("buttons").hidden = full.learner !== "thompson";
    $("thompson").hidden = full.learner !== "thompson";
    for (const row of document.querySelectorAll(".held-out")) row.hidden = full.test_loss === null;
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
    $("scrubber").setAttribute("aria-valuetext", `step ${seq} of ${this.head}`);
    $("step-of").textContent = `${seq} / ${this.head}`;
    this.frames.want(seq);
  }

  paint(frame) {
    this.shown = frame;
    NNDraw.board($("board"), this.points, frame);
    for (const key of ["loss", "accuracy", "score"]) $(`r-${key}`).textContent = fmt[key](frame[key]);
    for (const key of ["test_loss", "test_accuracy"]) $(`r-${key}`).textContent = frame[key] === null ? "-" : fmt[key](frame[key]);
    $("r-step").textContent = String(frame.seq);
    // the fingerprint is the newest head any answer has reported (a cached older answer knows an older one)
    if (!this.fingerprint || frame.head > this.fingerprint.head) {
      this.fingerprint = { head: frame.head, hash: frame.session_head_hash };
      $("head-hash").textContent = frame.session_head_hash;
      $("head-step").textContent = String(frame.head);
    }
    if (frame.posteriors) this.paintLearner(frame);
  }

  paintLearner(frame) {
    $("r-applied").textContent = frame.score.toFixed(3);
    const p = frame.event.payload, reward = p.reward === null || p.reward === undefined ? "-" : p.reward.toFixed(2);
    $("r-action").textContent = frame.event.type === "session_started" ? "no action yet" :
      `last action ${p.action} · reward credited ${reward}${p.button ? ` (${p.button})` : ""} · ` +
      (p.undone ? "the change before it was undone" : "nothing undone");
    // a network has two arms per parameter: like `show`, list the six likeliest to help
    const arms = frame.posteriors.length > SHOWN_ARMS
      ? [...frame.posteriors].sort((a, b) => b.mean - a.mean).slice(0, SHOWN_ARMS) : frame.posteriors;
    $("posteriors").caption.textContent = arms.length < frame.posteriors.length
      ? `${frame.posteriors.length} arms; the ${SHOWN_ARMS} likeliest to help` : "";
    const body = $("posteriors").tBodies[0];
    body.replaceChildren(...arms.map((arm) => {
      const row = document.createElement("tr");
      row.innerHTML = `<td></td><td>${arm.mean.toFixed(2)}</td><td><div class="band"><span></span><i></i></div>` +
        `<span class="visually-hidden">${arm.low.toFixed(2)} to ${arm.high.toFixed(2)}</span></td>`;  // the band, in words
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
    if (server.read_only) { $("press-error").textContent = "this server is read-only: presses are refused"; return; }
    if (!this.following) { this.offerFork(name); return; }
    try {
      const frame = await post(`/api/sessions/${this.id}/presses`, { press: name });
      this.frames.put(frame);
      if (frame.head >= this.head) { this.setHead(frame.head); if (this.following) this.show(frame.head); }
      // what a sighted user sees on the board, said once per press to a screen reader
      $("announce").textContent = `${name === "next" ? "Next iteration" : name}: step ${frame.seq}, ` +
        `accuracy ${fmt.accuracy(frame.accuracy)}, loss ${fmt.loss(frame.loss)}`;
    } catch (e) { $("press-error").textContent = e.message; }
  }

  offerFork(name) {
    const at = Number($("scrubber").value);
    $("fork-text").textContent = `You are looking at step ${at} of ${this.head}. A press records at the head. ` +
      `Fork a new session that shares steps 1 to ${at}, and press "${name === "next" ? "Next iteration" : name}" there?`;
    $("fork-offer").hidden = false;
    $("fork-here").focus();  // the choice is the next thing to do: a keyboard user lands on it
    $("fork-here").onclick = async () => {
      try {
        const made = await post(`/api/sessions/${this.id}/fork`, { at });
        await post(`/api/sessions/${made.id}/presses`, { press: name });
        navigate(`/sessions/${made.id}`);
      } catch (e) { $("press-error").textContent = e.message; }
    };
    $("to-head").onclick = () => { this.scrubTo(this.head); $("scrubber").focus(); };
    $("fork-cancel").onclick = () => { $("fork-offer").hidden = true; $("scrubber").focus(); };
  }

  togglePlay() {
    if (this.timer) { this.stopPlay(); return; }
    if (this.following || Number($("scrubber").value) >= this.head) this.scrubTo(1);
    $("play").textContent = "Pause";  // the name says what a press does; no aria-pressed on top of it
    const stride = Math.max(1, Math.round(this.head / 600));   // a history plays in about ten seconds at most
    this.timer = setInterval(() => {
      const next = Number($("scrubber").value) + stride;
      if (next >= this.head) { this.scrubTo(this.head); this.stopPlay(); } else this.scrubTo(next);
    }, 1000 / 60);
  }

  stopPlay() {
    clearInterval(this.timer); this.timer = null;
    $("play").textContent = "Play";
  }

  live(changed) {
    const head = changed[this.id];
    if (head !== undefined && head > this.head) { this.setHead(head); if (this.following) this.show(head); }
  }

  key(event) {
    const k = event.key;
    if (k === "Escape" && !$("fork-offer").hidden) { $("fork-cancel").click(); return true; }
    if (k === "n" || k === " ") { this.press("next"); return true; }
    if ("1234".includes(k) && k.length === 1 && this.learner === "thompson") { this.press(["bad", "meh", "good", "great"][Number(k) - 1]); return true; }
    const step = event.shiftKey ? 10 : 1, at = Number($("scrubber").value);
    if (k === "ArrowLeft" || k === "ArrowDown") { this.scrubTo(at - step); return true; }
    if (k === "ArrowRight" || k === "ArrowUp") { this.scrubTo(at + step); return true; }
    if (k === "Home") { this.scrubTo(1); return true; }
    if (k === "End") { this.scrubTo(this.head); return true; }
    return false;
  }

  close() {
    this.stopPlay(); $("session-view").hidden = true; $("fork-offer").hidden = true;
    for (const id of ["step-error", "press-error"]) $(id).textContent = "";
  }
}
