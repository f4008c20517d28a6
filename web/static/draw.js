// Drawing only: the server sends what to draw (points with true and predicted labels, a grid of the
// model's probability of red, the true separator's segment); nothing here knows a model's maths.
"use strict";

const NNDraw = (() => {
  const INK = "#222222", GREY = "#787878", RED = "#d62728", BLUE = "#2166ac";
  const RED_SHADE = [251, 224, 218], BLUE_SHADE = [221, 233, 246];
  const SESSION_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"];
  const shadeCanvas = document.createElement("canvas");

  // [-1, 1]² to pixels, y up, with a margin so that points on the edge are drawn whole
  function mapper(size) {
    const margin = Math.round(size * 0.03), span = size - 2 * margin;
    return { px: (x) => margin + (x + 1) / 2 * span, py: (y) => margin + (1 - y) / 2 * span, margin, span };
  }

  // the shaded sides: one pixel per grid cell, scaled up smoothly
  function shade(ctx, grid, m) {
    const n = grid.length;
    shadeCanvas.width = n; shadeCanvas.height = n;
    const sctx = shadeCanvas.getContext("2d");
    const image = sctx.createImageData(n, n);
    for (let i = 0; i < n; i++) {            // grid row i is y = centre i, bottom row first
      const row = grid[i], out = (n - 1 - i) * n;
      for (let j = 0; j < n; j++) {
        const c = row[j] > 0.5 ? RED_SHADE : BLUE_SHADE, k = 4 * (out + j);
        image.data[k] = c[0]; image.data[k + 1] = c[1]; image.data[k + 2] = c[2]; image.data[k + 3] = 255;
      }
    }
    sctx.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(shadeCanvas, m.margin, m.margin, m.span, m.span);
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
    ctx.strokeRect(m.margin, m.margin, m.span, m.span);
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

  // a metric against steps for several sessions, with the shown step marked
  function chart(canvas, series, metric, step) {
    const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height, pad = 36;
    ctx.clearRect(0, 0, w, h); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    const all = series.flatMap((s) => s[metric]);
    if (!all.length) return;
    const longest = Math.max(...series.map((s) => s[metric].length));
    let lo = Math.min(...all), hi = Math.max(...all);
    if (metric !== "loss") { lo = Math.min(lo, 0); hi = Math.max(hi, 1); }
    if (hi === lo) hi = lo + 1;
    const X = (k) => pad + k / Math.max(1, longest - 1) * (w - 2 * pad), Y = (v) => h - pad + (lo - v) / (hi - lo) * (h - 2 * pad);
    ctx.strokeStyle = GREY; ctx.lineWidth = 1; ctx.strokeRect(pad, pad, w - 2 * pad, h - 2 * pad);
    ctx.fillStyle = INK; ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(hi.toFixed(2), 2, pad + 4); ctx.fillText(lo.toFixed(2), 2, h - pad); ctx.fillText(metric, pad, pad - 8);
    series.forEach((s, n) => {
      const values = s[metric], stride = Math.max(1, Math.floor(values.length / (w - 2 * pad)));
      ctx.beginPath(); ctx.strokeStyle = SESSION_COLOURS[n % 4]; ctx.lineWidth = 1.8;
      for (let k = 0; k < values.length; k += stride) (k ? ctx.lineTo : ctx.moveTo).call(ctx, X(k), Y(values[k]));
      ctx.lineTo(X(values.length - 1), Y(values[values.length - 1])); ctx.stroke();
      if (values.length === 1) { ctx.fillStyle = SESSION_COLOURS[n % 4]; ctx.fillRect(X(0) - 2, Y(values[0]) - 2, 5, 5); }
      ctx.fillStyle = SESSION_COLOURS[n % 4]; ctx.fillText(s.label.slice(0, 24), pad + 90 + 160 * n, pad - 8);  // legend above
    });
    ctx.strokeStyle = INK; ctx.beginPath(); ctx.moveTo(X(step - 1), pad); ctx.lineTo(X(step - 1), h - pad); ctx.stroke();
  }

  return { board, chart, chain, contour, SESSION_COLOURS };
})();
