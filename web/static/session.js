// The session view: one session, its presses (one, ten, or Train), the scrubber, the fork offer, the
// readouts, and the network's insides (the curve and the learner's words are in readouts.js).
"use strict";

class SessionView {
  constructor(ref, query) {
    this.ref = ref; this.asked = (query ? query.get("demo") : null) || lessonDemo();
    this.following = true; this.shown = null; this.timer = null; this.training = false;
  }

  async open() {
    const full = await api(`/api/sessions/${encodeURIComponent(this.ref)}?grid=${GRID}&units=${UNITS}`);
    if (view !== this) return;  // another address was opened meanwhile: it owns the view now
    this.id = full.session_id; this.points = full.points; this.learner = full.learner; this.head = full.head;
    this.label = full.name || full.session_id.slice(0, 8);
    this.activation = full.model.activation || "";
    this.frames = new Frames(this.id, painter((frame) => this.paint(frame)),
      (error) => { $("step-error").textContent = error ? error.message : ""; }, `&units=${UNITS}&truth=false`);
    this.frames.put(full);
    this.series = null;
    this.demo = demoOf(full.learner, this.asked, full.last_button, full.head);
    $("title").textContent = this.label;
    this.describe(full);
    this.arrange();
    for (const row of document.querySelectorAll(".held-out")) row.hidden = full.test_loss === null;
    $("download-export").href = `/api/sessions/${this.id}/export`;
    $("download-gif").href = `/api/sessions/${this.id}/replay.gif`;
    $("compare-link").href = `/compare?s=${this.id}`;
    $("audit-verdict").textContent = "";
    this.setHead(full.head);
    this.show(full.head);
    document.title = `${this.label} · nnreplay`;
    $("session-view").hidden = false;
    this.loadSeries();
  }

  // which demo this is, where it came from, and every setting (in the details section)
  describe(full) {
    const demo = DEMOS[this.demo], line = $("demo-line");
    line.replaceChildren();
    const strong = document.createElement("strong");
    strong.textContent = demo.name;
    line.append(strong, `: ${demo.words} `);
    if (this.learner === "thompson") {       // the same session pressed the other way
      const other = this.demo === "feedback" ? "auto" : "feedback", link = document.createElement("a");
      link.href = `/sessions/${this.id}?demo=${other}`;
      link.textContent = other === "feedback" ? "Judge it yourself instead" : "Let the score judge instead";
      link.addEventListener("click", (e) => { e.preventDefault(); navigate(link.getAttribute("href")); });
      line.append(link);
    }
    const origin = $("origin");
    origin.hidden = !full.parent_id;
    if (full.parent_id) {
      const parent = sessions.find((s) => s.id === full.parent_id), link = document.createElement("a");
      link.href = `/sessions/${full.parent_id}`;
      link.textContent = parent ? parent.name || parent.id.slice(0, 8) : full.parent_id.slice(0, 8);
      link.addEventListener("click", (e) => { e.preventDefault(); navigate(link.getAttribute("href")); });
      origin.replaceChildren("Forked from ", link, ` at step ${full.parent_seq - 1} (seq ${full.parent_seq}): ` +
        `it shares that session's history up to there.`);
    }
    this.describeRecord(full);
    const s = full.settings;
    // and every other setting that differs from its default (the model, the data set, ...), named as sent
    const shown = new Set(["learner", "seed", "points", "noise", "lr", "step", "discount"]);
    const others = Object.entries(s).filter(([key, value]) => !shown.has(key) && key in server.settings &&
      JSON.stringify(value) !== JSON.stringify(server.settings[key]));
    $("subtitle").textContent = `${full.learner} · seed ${full.seed_text} · ${s.points} points · noise ${s.noise}` +
      (full.learner === "gradient" ? ` · lr ${s.lr}` : ` · step size ${s.step} · discount ${s.discount}`) +
      others.map(([key, value]) => ` · ${key} ${Array.isArray(value) ? value.join(",") : value}`).join("");
  }

  // a re-press names the session whose presses it presses again; a session of nnreplay 0.1/0.2 that this
  // machine's arithmetic replays differently says so (never "broken") and offers Re-press
  describeRecord(full) {
    const from = $("repressed-from"), origin = full.origin;
    from.hidden = !origin;
    if (origin) {
      const original = sessions.find((s) => s.id === origin.session_id), link = document.createElement("a");
      link.href = `/sessions/${origin.session_id}`;
      link.textContent = original ? original.name || original.id.slice(0, 8) : origin.session_id.slice(0, 8);
      link.addEventListener("click", (e) => { e.preventDefault(); navigate(link.getAttribute("href")); });
      const changed = origin.changed.length ? `with ${origin.changed.join(", ")} changed` : "with its settings";
      from.replaceChildren("Re-pressed from ", link, `: its ${origin.seq - 1} presses pressed again, ${changed}, ` +
        "in portable arithmetic.");
    }
    $("repress").disabled = server.read_only;
    const other = $("other-arithmetic"), departed = full.replay === "other arithmetic";
    const changed = full.replay === "differs";
    other.hidden = !departed && !changed;
    // such a session takes no press here (the server refuses it): Re-press is the way on
    this.unpressable = departed || changed;
    this.setPressable();
    if (changed) {
      other.textContent = "This log does not fold to the state it records here: it was changed after it was " +
        "recorded, so nothing more is pressed on it. Audit (under \"About this run\") says where.";
    }
    if (departed) {
      const at = full.problem ? full.problem.seq : null, again = document.createElement("button");
      again.type = "button"; again.className = "primary"; again.textContent = "Re-press it";
      again.addEventListener("click", () => this.repress());
      other.replaceChildren("Recorded on other arithmetic: nnreplay 0.1 or 0.2 recorded this session with " +
        "arithmetic that depends on the machine" + (at ? `, and this machine's replay departs from the record at ` +
        `step ${at - 1} (seq ${at})` : "") + ". Its log is intact, but this machine cannot continue it; the numbers " +
        "shown are this machine's. A re-press presses its presses again in a new session that any machine " +
        "replays bit for bit. ", again);
    }
  }

  // presses are off on a read-only server, on a log this machine cannot continue, and in a paused class
  setPressable() {
    for (const button of document.querySelectorAll(".presses button")) {
      button.disabled = this.unpressable || server.read_only || classPaused;
    }
    $("spotlight-note").hidden = !spotlight();
  }

  async repress() {
    try {
      const made = await post(`/api/sessions/${this.id}/repress`, {});
      await refreshSessions();
      navigate(`/sessions/${made.id}`);
    } catch (e) { $("press-error").textContent = e.message; }
  }

  // the demo decides what leads: the four buttons (feedback), or Next and the score's explanation
  arrange() {
    const thompson = this.learner === "thompson", feedback = this.demo === "feedback";
    $("press-lead").textContent = DEMOS[this.demo].lead;
    const presses = document.querySelector(".presses");
    if (feedback) presses.append($("press-lead"), $("buttons"), $("other-note"), $("nexts"));
    else presses.append($("press-lead"), $("nexts"), $("other-note"), $("buttons"));
    // the same learner takes both kinds of press: the other kind is there, said as the second choice
    $("other-note").hidden = !thompson;
    $("other-note").textContent = feedback ? "Or let the score judge the next nudges (Next, Train):"
      : "Or judge the picture yourself:";
    $("buttons").hidden = !thompson;
    $("thompson").hidden = !thompson;
    $("auto-explain").hidden = this.demo !== "auto";
    $("score-name").textContent = this.demo === "auto" ? "applied reinforcement score" : "score";
    for (const d of Object.keys(DEMOS)) $("session-view").classList.toggle(`demo-${d}`, d === this.demo);
  }

  async loadSeries() {
    try {
      const series = await api(`/api/sessions/${this.id}/metrics`);
      if (view !== this) return;
      this.series = series;
      if (this.shown) this.drawCurve(this.shown);
    } catch (e) { $("step-error").textContent = `the learning curve could not be read: ${e.message}`; }
  }

  // a press's answer extends the curve where it follows on from what the page has
  extendSeries(frame) {
    const s = this.series;
    if (!s) return;
    if (frame.seq === s.loss.length + 1) {
      for (const key of ["loss", "accuracy", "score", "test_loss", "test_accuracy"]) s[key].push(frame[key]);
    } else if (frame.seq > s.loss.length + 1 && !this.seriesTimer) {  // presses made elsewhere: read again
      this.seriesTimer = setTimeout(() => { this.seriesTimer = null; this.loadSeries(); }, 500);
    }
  }

  setHead(head) {
    this.head = head;
    const slider = $("scrubber");
    slider.max = String(head);
    if (this.following) slider.value = String(head);
    this.sayStep(Number(slider.value));
  }

  sayStep(seq) {
    $("step-of").textContent = `${stepWords(seq, this.head)} · seq ${seq}`;
    $("scrubber").setAttribute("aria-valuetext", stepWords(seq, this.head));
  }

  show(seq) {
    $("scrubber").value = String(seq);
    this.sayStep(seq);
    this.frames.want(seq);
  }

  paint(frame) {
    this.shown = frame;
    NNDraw.board($("board"), this.points, frame);
    for (const key of ["loss", "accuracy", "score"]) $(`r-${key}`).textContent = fmt[key](frame[key]);
    for (const key of ["test_loss", "test_accuracy"]) $(`r-${key}`).textContent = frame[key] === null ? "-" : fmt[key](frame[key]);
    $("r-step").textContent = String(frame.seq - 1);
    $("r-seq").textContent = String(frame.seq);
    // the fingerprint is the newest head any answer has reported (a cached older answer knows an older one)
    if (!this.fingerprint || frame.head > this.fingerprint.head) {
      this.fingerprint = { head: frame.head, hash: frame.session_head_hash };
      $("head-hash").textContent = frame.session_head_hash;
      $("head-step").textContent = `${frame.head - 1} (seq ${frame.head})`;
    }
    if (frame.posteriors) paintLearner(frame);
    this.drawCurve(frame);
    if (frame.network) {
      NNInside.draw($("network"), frame, this.activation);
      $("network").setAttribute("aria-label", NNInside.summary(frame, this.activation));
      $("network-text").textContent = NNInside.describe(frame, this.activation);
    }
  }

  drawCurve(frame) { if (this.series) this.curve = drawCurve(this.series, frame); }

  scrubTo(seq, keepTraining = false) {
    seq = Math.max(1, Math.min(this.head, seq));
    if (!keepTraining && this.training && seq !== this.head) this.stopTraining();
    this.following = seq === this.head;
    $("fork-offer").hidden = true;
    this.show(seq);
  }

  // presses go out one after another, in the order they were made; each resolves to whether it was recorded
  press(name, count = 1) {
    this.queue = (this.queue || Promise.resolve()).then(() => this.pressNow(name, count));
    return this.queue;
  }

  async pressNow(name, count = 1) {
    $("press-error").textContent = "";
    if (view !== this) return false;
    if (server.read_only) { $("press-error").textContent = "this server is read-only: presses are refused"; return false; }
    if (!this.following) { this.offerFork(name); return false; }
    try {
      const body = count === 1 ? { press: name } : { press: name, count };
      const frame = await post(`/api/sessions/${this.id}/presses?grid=${GRID}&units=${UNITS}&points=false&truth=false`, body);
      this.frames.put(frame);
      this.extendSeries(frame);
      if (frame.head >= this.head) { this.setHead(frame.head); if (this.following) this.show(frame.head); }
      // what a sighted user sees on the board, said once per press to a screen reader (not per Train press)
      if (!this.training) {
        $("announce").textContent = `${name === "next" ? "Next iteration" : name}${count > 1 ? ` ×${count}` : ""}: ` +
          `step ${frame.seq - 1}, accuracy ${fmt.accuracy(frame.accuracy)}, loss ${fmt.loss(frame.loss)}`;
      }
      return true;
    } catch (e) {
      if (e.status === 423) {           // the class is paused: said as a pause, not as an error
        showClassPaused(true, true);
        $("announce").textContent = e.message;
        return false;
      }
      $("press-error").textContent = e.message; return false;
    }
  }

  // Train: Next presses one after another at the chosen rate, each an event, until Pause, a refusal, or
  // leaving the session. Pause stops at once; a press already sent still lands, and only then does the
  // page say where it paused (a click on Train before that carries on the same loop).
  async train() {
    if (this.training) { this.stopTraining(); return; }
    if (server.read_only) { $("press-error").textContent = "this server is read-only: presses are refused"; return; }
    if (!this.following) this.scrubTo(this.head);
    this.training = true;
    $("train").textContent = "Pause"; $("train").classList.add("primary");
    $("announce").textContent = "training";
    if (this.looping) return;
    this.looping = true;
    while (this.training && view === this) {
      const began = performance.now(), rate = Math.max(1, Math.min(50, Number($("rate").value) || 10));
      if (!(await this.press("next"))) break;
      const wait = 1000 / rate - (performance.now() - began);
      if (wait > 0 && this.training) await new Promise((done) => { this.wake = done; this.trainTimer = setTimeout(done, wait); });
    }
    this.looping = false;
    this.stopTraining();
    if (view === this && !classPaused) $("announce").textContent = `paused at step ${this.head - 1}`;  // else the class's pause is said
  }

  stopTraining() {
    this.training = false; clearTimeout(this.trainTimer);
    if (this.wake) { this.wake(); this.wake = null; }
    $("train").textContent = "Train"; $("train").classList.remove("primary");
  }

  offerFork(name) {
    const at = Number($("scrubber").value);
    $("fork-text").textContent = `You are looking at step ${at - 1} of ${this.head - 1}; presses are recorded at the latest step. ` +
      `Fork a new session that shares steps 0 to ${at - 1} (seq 1 to ${at}), and press "${name === "next" ? "Next iteration" : name}" there?`;
    $("fork-offer").hidden = false;
    $("fork-here").focus();  // the choice is the next thing to do: a keyboard user lands on it
    $("fork-here").onclick = async () => {
      try {
        const made = await post(`/api/sessions/${this.id}/fork`, { at });
        await post(`/api/sessions/${made.id}/presses`, { press: name });
        await refreshSessions();
        navigate(`/sessions/${made.id}${this.asked ? `?demo=${this.demo}` : ""}`);
      } catch (e) { $("press-error").textContent = e.message; }
    };
    $("to-head").onclick = () => { this.scrubTo(this.head); $("scrubber").focus(); };
    $("fork-cancel").onclick = () => { $("fork-offer").hidden = true; $("scrubber").focus(); };
  }

  pickOnCurve(event) {
    if (!this.curve) return;
    const box = $("curve").getBoundingClientRect();
    this.scrubTo(this.curve.stepAt(event.clientX - box.left) + 1);
  }

  togglePlay() {
    if (this.timer) { this.stopPlay(); return; }
    this.stopTraining();
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
    if (head !== undefined && head > this.head) {
      this.setHead(head);
      if (this.following) this.show(head);
      if (this.series && head > this.series.loss.length + 1 && !this.training && !this.seriesTimer) {
        this.seriesTimer = setTimeout(() => { this.seriesTimer = null; this.loadSeries(); }, 300);
      }
    }
  }

  key(event) {
    const k = event.key;
    if (k === "Escape" && !$("fork-offer").hidden) { $("fork-cancel").click(); return true; }
    const pressing = pressesAllowed();   // the teacher presses nothing on a student's session
    if (pressing && (k === "n" || k === " ")) { this.press("next"); return true; }
    if (pressing && "1234".includes(k) && k.length === 1 && this.learner === "thompson") { this.press(["bad", "meh", "good", "great"][Number(k) - 1]); return true; }
    const step = event.shiftKey ? 10 : 1, at = Number($("scrubber").value);
    if (k === "ArrowLeft" || k === "ArrowDown") { this.scrubTo(at - step); return true; }
    if (k === "ArrowRight" || k === "ArrowUp") { this.scrubTo(at + step); return true; }
    if (k === "Home") { this.scrubTo(1); return true; }
    if (k === "End") { this.scrubTo(this.head); return true; }
    return false;
  }

  close() {
    this.stopPlay(); this.stopTraining(); clearTimeout(this.seriesTimer);
    $("session-view").hidden = true; $("fork-offer").hidden = true;
    for (const id of ["step-error", "press-error"]) $(id).textContent = "";
  }
}
