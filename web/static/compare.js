// The compare view: two to four sessions in step, with a chart of one metric.
"use strict";

const compareAddress = (refs) => `/compare${refs.length ? "?" : ""}${refs.map((ref) => `s=${encodeURIComponent(ref)}`).join("&")}`;

class CompareView {
  constructor(refs) { this.refs = refs.slice(0, 4); this.panels = []; this.timer = null; }

  async open() {
    $("compare-view").hidden = false;
    const panels = $("panels");
    panels.replaceChildren();
    this.panels = await Promise.all(this.refs.map(async (ref, n) => {
      const full = await api(`/api/sessions/${encodeURIComponent(ref)}?grid=${GRID}`);
      const series = await api(`/api/sessions/${full.session_id}/metrics`);
      const figure = document.createElement("figure"), canvas = document.createElement("canvas");
      const caption = document.createElement("figcaption");
      canvas.width = 360; canvas.height = 360;
      const label = full.name || full.session_id.slice(0, 8);
      canvas.setAttribute("role", "img"); canvas.setAttribute("aria-label", `${label} at the shown step`);
      caption.style.setProperty("--swatch", NNDraw.SESSION_COLOURS[n]);  // the chart's colour, beside dark text
      const remove = document.createElement("button");
      remove.type = "button"; remove.textContent = "Remove"; remove.setAttribute("aria-label", `Remove ${label} from the comparison`);
      remove.addEventListener("click", () => navigate(compareAddress(this.refs.filter((_, k) => k !== n))));
      // the same presses again in portable arithmetic, shown beside the original
      const again = document.createElement("button");
      again.type = "button"; again.textContent = "Re-press"; again.disabled = server.read_only || this.refs.length >= 4;
      again.setAttribute("aria-label", `Re-press ${label}: a new session pressing its presses again, added here`);
      again.addEventListener("click", async () => {
        try {
          const made = await post(`/api/sessions/${full.session_id}/repress`, {});
          await refreshSessions();
          navigate(compareAddress([...this.refs, made.id]));
        } catch (e) { $("compare-error").textContent = `${label}: ${e.message}`; }
      });
      figure.append(canvas, caption, remove, again);
      const panel = { id: full.session_id, label, points: full.points, head: full.head, series, canvas, caption };
      panel.frames = new Frames(panel.id, painter((frame) => this.paint(panel, frame)),
        (error) => { $("compare-error").textContent = error ? `${label}: ${error.message}` : ""; });
      panel.frames.put(full);
      return panel;
    }));
    if (view !== this) return;  // another address was opened meanwhile: it owns the view now
    panels.append(...this.panels.map((p) => p.canvas.parentElement));
    this.setLength();
    this.scrubTo(this.length);
    this.offerMore();
    $("compare-hint").hidden = this.panels.length >= 2;
    $("chart").hidden = !this.panels.length;
    document.title = `compare · nnreplay`;
  }

  offerMore() {
    const shown = new Set(this.panels.map((p) => p.id)), add = $("compare-add");
    add.replaceChildren(new Option("…", ""), ...sessions.filter((s) => !shown.has(s.id))
      .map((s) => new Option(shortName(s.name || s.id.slice(0, 8)), s.id)));
    add.disabled = this.panels.length >= 4; $("compare-add-go").disabled = add.disabled;
  }

  setLength() {
    this.length = Math.max(1, ...this.panels.map((p) => p.head));
    $("compare-scrubber").max = String(this.length);
  }

  paint(panel, frame) {
    NNDraw.board(panel.canvas, panel.points, frame);
    panel.caption.textContent = `${panel.label} · step ${frame.seq - 1} (seq ${frame.seq}) · accuracy ${fmt.accuracy(frame.accuracy)} · ` +
      `loss ${fmt.loss(frame.loss)} · score ${fmt.score(frame.score)}` +
      (frame.test_accuracy === null ? "" : ` · held-out accuracy ${fmt.test_accuracy(frame.test_accuracy)}`);
  }

  scrubTo(step) {
    step = Math.max(1, Math.min(this.length, step));
    $("compare-scrubber").value = String(step);
    $("compare-step").textContent = `${stepWords(step, this.length)} · seq ${step}`;
    $("compare-scrubber").setAttribute("aria-valuetext", stepWords(step, this.length));
    for (const panel of this.panels) panel.frames.want(Math.min(step, panel.head));  // in step; a short run holds its end
    this.drawChart();
  }

  drawChart() {
    if (!this.panels.length) return;
    NNDraw.chart($("chart"), this.panels.map((p) => ({ label: p.label, ...p.series })), $("metric").value, Number($("compare-scrubber").value));
    $("chart").setAttribute("aria-label", `${$("metric").value} against steps: ` + this.panels.map((p) => {
      const values = p.series[$("metric").value], at = Math.min(Number($("compare-scrubber").value), values.length) - 1;
      return `${p.label} ${values[at].toFixed(3)} at step ${at}`;
    }).join("; "));
  }

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
        try {
          panel.series = await api(`/api/sessions/${panel.id}/metrics`);
        } catch (e) { $("compare-error").textContent = `${panel.label}: ${e.message}`; continue; }
        panel.head = changed[panel.id];
        this.setLength();
        if (atEnd) this.scrubTo(this.length); else this.drawChart();
      }
    }
  }

  key(event) {
    const step = event.shiftKey ? 10 : 1, at = Number($("compare-scrubber").value);
    if (event.key === "ArrowLeft" || event.key === "ArrowDown") { this.scrubTo(at - step); return true; }
    if (event.key === "ArrowRight" || event.key === "ArrowUp") { this.scrubTo(at + step); return true; }
    if (event.key === "Home") { this.scrubTo(1); return true; }
    if (event.key === "End") { this.scrubTo(this.length); return true; }
    return false;
  }

  close() { if (this.timer) this.togglePlay(); $("compare-view").hidden = true; }
}
