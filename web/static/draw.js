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

  function board(canvas, points, frame) {
    const ctx = canvas.getContext("2d"), size = canvas.width, m = mapper(size);
    ctx.clearRect(0, 0, size, size);
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, size, size);
    shade(ctx, frame.grid, m);
    ctx.strokeStyle = GREY; ctx.lineWidth = 1; ctx.setLineDash([]);
    ctx.strokeRect(m.margin, m.margin, m.span, m.span);
    if (frame.truth && frame.truth.length === 2) {           // the true separator, dashed
      ctx.beginPath(); ctx.setLineDash([8, 6]); ctx.lineWidth = 1.5; ctx.strokeStyle = GREY;
      ctx.moveTo(m.px(frame.truth[0][0]), m.py(frame.truth[0][1]));
      ctx.lineTo(m.px(frame.truth[1][0]), m.py(frame.truth[1][1])); ctx.stroke(); ctx.setLineDash([]);
    }
    ctx.beginPath(); ctx.lineWidth = 2.5; ctx.strokeStyle = INK;   // the model's boundary, solid
    for (const [a, b] of contour(frame.grid, 0.5)) { ctx.moveTo(m.px(a[0]), m.py(a[1])); ctx.lineTo(m.px(b[0]), m.py(b[1])); }
    ctx.stroke();
    const r = Math.max(3, size / 70), ring = Math.max(1.5, r / 2.6);
    for (let k = 0; k < points.length; k++) {               // fill = true label, ring = prediction
      const [x, y, label] = points[k];
      ctx.beginPath(); ctx.arc(m.px(x), m.py(y), r, 0, 2 * Math.PI);
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
      ctx.fillStyle = SESSION_COLOURS[n % 4]; ctx.fillText(s.label, w - pad - 140, pad + 14 + 14 * n);
    });
    ctx.strokeStyle = INK; ctx.beginPath(); ctx.moveTo(X(step - 1), pad); ctx.lineTo(X(step - 1), h - pad); ctx.stroke();
  }

  return { board, chart, contour, SESSION_COLOURS };
})();
