// Drawing only: the server sends what to draw (points with true and predicted labels, a grid of the
// model's probability of red, the true separator's segment); nothing here knows a model's maths.
"use strict";

const NNDraw = (() => {
  const INK = "#1f1f1f", GREY = "#666666", RED = "#d62728", BLUE = "#2166ac";
  // the GIFs' confidence bands (replay/palette.py): p(red) below each edge gets the shade at that position,
  // deep blue ... pale blue | pale red ... deep red; palest next to the boundary, deeper where the model is surer
  const RAMP = [[175, 200, 225], [193, 212, 232], [208, 223, 238], [221, 233, 246],
    [251, 224, 218], [246, 210, 210], [244, 195, 195], [240, 177, 178]];
  const RAMP_EDGES = [0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95];
  // one colour per session; dark enough to read as text and lines on white (WCAG AA)
  const SESSION_COLOURS = ["#1f5fa8", "#a84300", "#2a7a2a", "#7a3f9e"];
  const shadeCanvas = document.createElement("canvas");
  const band = (p) => { let k = 0; while (k < 7 && p >= RAMP_EDGES[k]) k++; return RAMP[k]; };

  // [-1, 1]² to pixels, y up, with a margin so that points on the edge are drawn whole
  function mapper(size) {
    const margin = Math.round(size * 0.03), span = size - 2 * margin;
    return { px: (x) => margin + (x + 1) / 2 * span, py: (y) => margin + (1 - y) / 2 * span, margin, span };
  }

  // The shaded bands: the probability is interpolated (bilinearly, between the grid's cell centres) at
  // every pixel of a half-resolution image and then given its band (antialiased), which is drawn scaled
  // up: a band's edge is as smooth as the screen, with no stair steps and no pale halo of a small grid.
  function shade(ctx, grid, m) {
    const n = grid.length, span = Math.max(2, Math.round(m.span / 2)), flat = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) flat[i * n + j] = grid[i][j];
    const at = new Int32Array(span), frac = new Float32Array(span), one = n > 1 ? 1 : 0, scale = n / span;
    for (let k = 0; k < span; k++) {            // pixel k's position in cell-centre units, clamped at the edges
      const u = Math.min(n - 1, Math.max(0, ((k + 0.5) / span) * n - 0.5));
      at[k] = Math.max(0, Math.min(n - 2, Math.floor(u))); frac[k] = n > 1 ? u - at[k] : 0;
    }
    shadeCanvas.width = span; shadeCanvas.height = span;
    const sctx = shadeCanvas.getContext("2d"), image = sctx.createImageData(span, span), data = image.data;
    for (let r = 0; r < span; r++) {
      const k = span - 1 - r, i = at[k], fy = frac[k], row0 = i * n, row1 = (i + one) * n;  // canvas rows go down, grid rows up
      for (let c = 0; c < span; c++) {
        const j = at[c], fx = frac[c];
        const low = flat[row0 + j] + (flat[row0 + j + one] - flat[row0 + j]) * fx;
        const high = flat[row1 + j] + (flat[row1 + j + one] - flat[row1 + j]) * fx;
        const p = low + (high - low) * fy;
        let b = 0;
        while (b < 7 && p >= RAMP_EDGES[b]) b++;
        // antialiased band edges: within half a pixel of an edge (measured with the field's gradient), the
        // neighbouring band's colour is mixed in by how far the edge runs into the pixel
        const gx = ((flat[row0 + j + one] - flat[row0 + j]) * (1 - fy) + (flat[row1 + j + one] - flat[row1 + j]) * fy) * scale;
        const gradient = Math.hypot(gx, (high - low) * scale) + 1e-12;
        let colour = RAMP[b], other = null, w = 0;
        if (b > 0 && (p - RAMP_EDGES[b - 1]) / gradient < 0.5) { other = RAMP[b - 1]; w = 0.5 - (p - RAMP_EDGES[b - 1]) / gradient; }
        else if (b < 7 && (RAMP_EDGES[b] - p) / gradient < 0.5) { other = RAMP[b + 1]; w = 0.5 - (RAMP_EDGES[b] - p) / gradient; }
        const o = 4 * (r * span + c);
        if (other) colour = [colour[0] + (other[0] - colour[0]) * w, colour[1] + (other[1] - colour[1]) * w, colour[2] + (other[2] - colour[2]) * w];
        data[o] = colour[0]; data[o + 1] = colour[1]; data[o + 2] = colour[2]; data[o + 3] = 255;
      }
    }
    sctx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(shadeCanvas, m.margin, m.margin, m.span, m.span);
  }

  // a small heatmap of any field (a unit's output), one image pixel per cell, diverging from the middle of
  // [lo, hi]: white there, the page's red above, its blue below
  const heatCanvas = document.createElement("canvas");
  function heatmap(ctx, grid, x, y, size, lo, hi) {
    const n = grid.length, mid = (lo + hi) / 2, half = Math.max(1e-9, (hi - lo) / 2);
    heatCanvas.width = n; heatCanvas.height = n;
    const hctx = heatCanvas.getContext("2d"), image = hctx.createImageData(n, n), data = image.data;
    for (let i = 0; i < n; i++) {
      const row = grid[i], out = (n - 1 - i) * n;
      for (let j = 0; j < n; j++) {
        const t = Math.max(-1, Math.min(1, (row[j] - mid) / half)), o = 4 * (out + j);
        if (t > 0) { data[o] = 255 - t * 41; data[o + 1] = 255 - t * 216; data[o + 2] = 255 - t * 215; } else {
          data[o] = 255 + t * 222; data[o + 1] = 255 + t * 153; data[o + 2] = 255 + t * 83;
        }
        data[o + 3] = 255;
      }
    }
    hctx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heatCanvas, x, y, size, size);
  }

  // the grid with a border at the square's edges, extrapolated half a cell from the outermost centres,
  // so that the contour reaches the edges: returns (values, coordinates along one side)
  function padded(grid) {
    const n = grid.length, at = [-1], rows = [];
    for (let k = 0; k < n; k++) at.push(-1 + (2 * k + 1) / n);
    at.push(1);
    const edge = (a, b) => a + (a - b) / 2;
    for (let i = 0; i < n; i++) {
      const row = grid[i];
      rows.push([edge(row[0], row[Math.min(1, n - 1)]), ...row, edge(row[n - 1], row[Math.max(n - 2, 0)])]);
    }
    const first = rows[0].map((v, j) => edge(v, rows[Math.min(1, n - 1)][j]));
    const last = rows[n - 1].map((v, j) => edge(v, rows[Math.max(n - 2, 0)][j]));
    return [[first, ...rows, last], at];
  }

  // the 0.5 contour of the grid by marching squares, between cell centres (and the square's edges)
  function contour(grid, level) {
    const [v, c] = padded(grid), n = v.length, segments = [];
    const cross = (a, b, va, vb) => a + (level - va) / (vb - va) * (b - a);
    for (let i = 0; i + 1 < n; i++) {
      for (let j = 0; j + 1 < n; j++) {
        const v00 = v[i][j], v01 = v[i][j + 1], v10 = v[i + 1][j], v11 = v[i + 1][j + 1];
        const x0 = c[j], x1 = c[j + 1], y0 = c[i], y1 = c[i + 1], hits = [];
        if ((v00 > level) !== (v01 > level)) hits.push([cross(x0, x1, v00, v01), y0]);
        if ((v01 > level) !== (v11 > level)) hits.push([x1, cross(y0, y1, v01, v11)]);
        if ((v10 > level) !== (v11 > level)) hits.push([cross(x0, x1, v10, v11), y1]);
        if ((v00 > level) !== (v10 > level)) hits.push([x0, cross(y0, y1, v00, v10)]);
        if (hits.length === 2) segments.push(hits);
        else if (hits.length === 4) segments.push([hits[0], hits[1]], [hits[2], hits[3]]);
      }
    }
    return segments;
  }

  // segments that share an end joined into polylines, so that a dashed line keeps its dashes and a
  // solid one its joins (neighbouring cells compute a shared end with the same arithmetic, exactly)
  function chain(segments) {
    const key = (p) => `${p[0]},${p[1]}`, ends = new Map(), used = new Array(segments.length).fill(false);
    segments.forEach((seg, n) => seg.forEach((p) => {
      const k = key(p);
      if (!ends.has(k)) ends.set(k, []);
      ends.get(k).push(n);
    }));
    const extend = (line) => {
      for (;;) {
        const tail = line[line.length - 1], next = (ends.get(key(tail)) || []).find((n) => !used[n]);
        if (next === undefined) return line;
        used[next] = true;
        const [a, b] = segments[next];
        line.push(key(a) === key(tail) ? b : a);
      }
    };
    const lines = [], degree = (p) => ends.get(key(p)).length;
    // open curves start at an end that only one segment touches; what is left is closed loops
    for (const pass of [true, false]) {
      segments.forEach((seg, n) => {
        if (used[n] || (pass && degree(seg[0]) !== 1 && degree(seg[1]) !== 1)) return;
        used[n] = true;
        const start = pass && degree(seg[0]) !== 1 ? [seg[1], seg[0]] : [seg[0], seg[1]];
        lines.push(extend(start));
      });
    }
    return lines;
  }

  function stroke(ctx, m, lines) {
    ctx.beginPath();
    for (const line of lines) {
      ctx.moveTo(m.px(line[0][0]), m.py(line[0][1]));
      for (let k = 1; k < line.length; k++) ctx.lineTo(m.px(line[k][0]), m.py(line[k][1]));
    }
    ctx.stroke();
  }

  function board(canvas, points, frame) {
    const ctx = canvas.getContext("2d"), size = canvas.width, m = mapper(size);
    ctx.clearRect(0, 0, size, size);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, size, size);
    shade(ctx, frame.grid, m);
    ctx.strokeStyle = GREY; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.strokeRect(m.margin + 0.5, m.margin + 0.5, Math.round(m.span) - 1, Math.round(m.span) - 1);
    if (frame.truth) {                                        // the data set's true boundary, dashed
      ctx.setLineDash([8, 6]); ctx.lineWidth = 1.5; ctx.strokeStyle = GREY;
      stroke(ctx, m, chain(contour(frame.truth, 0)));
      ctx.setLineDash([]);
    }
    ctx.lineWidth = 2.5; ctx.strokeStyle = INK; ctx.lineJoin = "round";   // the model's boundary, solid
    stroke(ctx, m, chain(contour(frame.grid, 0.5)));
    const r = Math.max(3, size / 70), ring = Math.max(1.5, r / 2.6);
    const train = frame.train_points === undefined ? points.length : frame.train_points;
    for (let k = 0; k < points.length; k++) {               // fill = true label, ring = prediction
      const [x, y, label] = points[k], px = m.px(x), py = m.py(y);
      ctx.beginPath();
      if (k < train) ctx.arc(px, py, r, 0, 2 * Math.PI);
      else ctx.rect(px - r, py - r, 2 * r, 2 * r);          // held-out points are squares, as in the GIFs
      ctx.fillStyle = label ? RED : BLUE; ctx.fill();
      ctx.lineWidth = ring; ctx.strokeStyle = frame.predicted[k] ? RED : BLUE; ctx.stroke();
    }
  }

  // the canvas's drawing buffer made the size it is shown at (times the screen's density), so that its
  // text is as large as the page's: returns the context, drawing in CSS pixels, and the width and height
  function fit(canvas) {
    const ratio = window.devicePixelRatio || 1, w = Math.max(200, canvas.clientWidth || canvas.width),
      h = Math.max(120, canvas.clientHeight || canvas.height);
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio); canvas.height = Math.round(h * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return [ctx, w, h];
  }

  // Lines against steps (index k is step k, seq k + 1), the shown step marked. `lines`: {label, colour,
  // values, dash}. Returns the x of a step and its inverse, for a click to pick a step.
  function lines(canvas, all, options) {
    const [ctx, w, h] = fit(canvas), left = 42, right = 12, top = 26, bottom = 26;
    ctx.clearRect(0, 0, w, h); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    const longest = Math.max(1, ...all.map((l) => l.values.length));
    const numbers = all.flatMap((l) => l.values).filter((v) => v !== null && Number.isFinite(v));
    let lo = options.lo ?? Math.min(0, ...numbers), hi = Math.max(options.hi ?? 0, ...numbers);
    if (hi === lo) hi = lo + 1;
    const X = (k) => left + k / Math.max(1, longest - 1) * (w - left - right);
    const Y = (v) => h - bottom + (lo - v) / (hi - lo) * (h - top - bottom);
    ctx.strokeStyle = "#8a8a8a"; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.strokeRect(left, top, w - left - right, h - top - bottom);
    ctx.fillStyle = INK; ctx.font = "12px system-ui, sans-serif"; ctx.textBaseline = "middle";
    ctx.fillText(hi.toFixed(2), 4, Y(hi)); ctx.fillText(lo.toFixed(2), 4, Y(lo));
    ctx.textBaseline = "alphabetic";
    ctx.fillText("step", w - right - 26, h - 8); ctx.fillText("0", left, h - 8);
    ctx.fillText(String(longest - 1), Math.min(w - right - 60, X(longest - 1) - 10), h - 8);
    let legend = left;
    for (const line of all) {
      const values = line.values, stride = Math.max(1, Math.floor(values.length / (w - left - right)));
      ctx.strokeStyle = line.colour; ctx.lineWidth = 2; ctx.setLineDash(line.dash || []);
      ctx.beginPath();
      let drawing = false;
      for (let k = 0; k < values.length; k += stride) {
        if (values[k] === null) { drawing = false; continue; }
        (drawing ? ctx.lineTo : ctx.moveTo).call(ctx, X(k), Y(values[k])); drawing = true;
      }
      const last = values.length - 1;
      if (last >= 0 && values[last] !== null) ctx.lineTo(X(last), Y(values[last]));
      ctx.stroke();
      if (values.length === 1 && values[0] !== null) { ctx.fillStyle = line.colour; ctx.fillRect(X(0) - 2, Y(values[0]) - 2, 5, 5); }
      ctx.setLineDash([]);
      ctx.fillStyle = line.colour; ctx.fillRect(legend, 8, 14, 3);
      ctx.fillStyle = INK; const text = line.label.slice(0, 28); ctx.fillText(text, legend + 18, 14);
      legend += 18 + ctx.measureText(text).width + 14;
    }
    if (options.step !== undefined) {
      const x = X(Math.min(options.step, longest - 1));
      ctx.strokeStyle = INK; ctx.lineWidth = 1.5; ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, h - bottom); ctx.stroke();
    }
    return { stepAt: (px) => Math.round((px - left) / Math.max(1, w - left - right) * Math.max(1, longest - 1)), longest };
  }

  // a metric against steps for several sessions (the compare view), with the shown step marked
  function chart(canvas, series, metric, seq) {
    return lines(canvas, series.map((s, n) => ({ label: s.label, colour: SESSION_COLOURS[n % 4], values: s[metric] })),
      metric === "loss" ? { step: seq - 1 } : { step: seq - 1, lo: 0, hi: 1 });
  }

  return { board, chart, lines, heatmap, fit, chain, contour, band, SESSION_COLOURS, RED, BLUE, INK };
})();
