// Inside the model: the network as inputs (the chosen features), hidden units and the output, each a small
// heatmap of what it computes over the board, joined by its weights (colour = sign, width = magnitude).
// Every number comes from the server (`network` in a state, docs/api.md); this only draws it.
"use strict";

const NNInside = (() => {
  const WEIGHT_RED = "rgba(214, 39, 40, 0.8)", WEIGHT_BLUE = "rgba(33, 102, 172, 0.8)";

  // each column's nodes: {label, grid, lo, hi}; symmetric ranges, so white is 0, red above, blue below
  function columns(network, output, activation) {
    const symmetric = (grid) => {
      let m = 1e-9;
      for (const row of grid) for (const v of row) m = Math.max(m, Math.abs(v));
      return [-m, m];
    };
    const cols = [network.inputs.map((grid, k) => {
      const [lo, hi] = symmetric(grid);
      return { label: network.features[k], grid, lo, hi };
    })];
    network.hidden.forEach((layer, l) => cols.push(layer.map((grid, k) => {
      const [lo, hi] = symmetric(grid);
      return { label: `${l + 1}.${k + 1}`, grid, lo, hi };
    })));
    cols.push([{ label: "output p(red)", grid: output, lo: 0, hi: 1 }]);
    return cols;
  }

  function draw(canvas, frame, activation) {
    const network = frame.network;
    if (!network) return;
    const cols = columns(network, frame.grid, activation), tallest = Math.max(...cols.map((c) => c.length));
    const width = Math.max(280, canvas.clientWidth || 720);
    const node = Math.max(22, Math.min(44, Math.floor((width - 40) / (cols.length * 2.4))));
    const gap = Math.max(8, Math.round(node * 0.35)), top = 22, bottom = 22;
    const height = `${top + bottom + tallest * node + (tallest - 1) * gap}px`;
    if (canvas.style.height !== height) canvas.style.height = height;
    const [ctx, w, h] = NNDraw.fit(canvas);
    ctx.clearRect(0, 0, w, h); ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
    const colX = (c) => 20 + c * (w - 40 - node) / Math.max(1, cols.length - 1);
    const nodeY = (c, k) => top + (h - top - bottom - (cols[c].length * node + (cols[c].length - 1) * gap)) / 2 + k * (node + gap);
    // the weights, under the nodes
    let most = 1e-9;
    for (const layer of network.layers) for (const row of layer.weights) for (const v of row) most = Math.max(most, Math.abs(v));
    network.layers.forEach((layer, c) => {
      layer.weights.forEach((row, i) => row.forEach((v, j) => {
        ctx.strokeStyle = v >= 0 ? WEIGHT_RED : WEIGHT_BLUE;
        ctx.lineWidth = 0.5 + 5.5 * Math.abs(v) / most;
        ctx.beginPath();
        ctx.moveTo(colX(c) + node, nodeY(c, i) + node / 2);
        ctx.lineTo(colX(c + 1), nodeY(c + 1, j) + node / 2);
        ctx.stroke();
      }));
    });
    ctx.font = "12px system-ui, sans-serif"; ctx.textAlign = "center";
    cols.forEach((col, c) => {
      col.forEach((unit, k) => {
        const x = colX(c), y = nodeY(c, k);
        NNDraw.heatmap(ctx, unit.grid, x, y, node, unit.lo, unit.hi);
        ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(x + 0.5, y + 0.5, node - 1, node - 1);
        if (c === 0 || c === cols.length - 1) { ctx.fillStyle = NNDraw.INK; ctx.fillText(unit.label, x + node / 2, y + node + 14); }
      });
      ctx.fillStyle = NNDraw.INK;
      const title = c === 0 ? "inputs" : c === cols.length - 1 ? "output" : `layer ${c}`;
      ctx.fillText(title, colX(c) + node / 2, 14);
    });
    ctx.textAlign = "start";
  }

  // the same, in words and numbers: the diagram's text alternative
  function describe(frame, activation) {
    const network = frame.network;
    if (!network) return "";
    const sizes = network.hidden.map((layer) => layer.length);
    const names = [network.features.join(", "), ...sizes.map((n, l) => `layer ${l + 1} (${n} ${activation || ""} unit${n === 1 ? "" : "s"})`.replace("  ", " ")), "the output"];
    const lines = [`At step ${frame.step}: inputs ${names[0]}` + sizes.map((n, l) => `, then ${names[l + 1]}`).join("") + ", then one sigmoid output."];
    network.layers.forEach((layer, l) => {
      lines.push(`Weights from ${l === 0 ? "the inputs" : `layer ${l}`} to ${l === network.layers.length - 1 ? "the output" : `layer ${l + 1}`} (one row per ${l === 0 ? "input" : "unit"}):`);
      layer.weights.forEach((row, i) => lines.push(`  ${l === 0 ? network.features[i] : `${l}.${i + 1}`}: ${row.map((v) => (v >= 0 ? "+" : "") + v.toFixed(2)).join("  ")}`));
      lines.push(`  bias: ${layer.bias.map((v) => (v >= 0 ? "+" : "") + v.toFixed(2)).join("  ")}`);
    });
    return lines.join("\n");
  }

  function summary(frame, activation) {
    const network = frame.network;
    if (!network) return "The network";
    const sizes = network.hidden.map((layer) => layer.length);
    return `The network at step ${frame.step}: inputs ${network.features.join(", ")}` +
      (sizes.length ? `, hidden layers of ${sizes.join(" and ")} ${activation} units` : ", no hidden layer") +
      ", one output. Its weights are listed under it.";
  }

  return { draw, describe, summary };
})();
