// mlplab playground page: keeps the set-up (in the URL), sends it to the server, draws frames.
// Plain JavaScript, no library, no build step. Colours: the TensorFlow Playground's scale,
// orange for negative, blue for positive.
"use strict";

const FEATURES = [["x1", "X\u2081"], ["x2", "X\u2082"], ["x1sq", "X\u2081\u00b2"],
  ["x2sq", "X\u2082\u00b2"], ["x1x2", "X\u2081X\u2082"], ["sinx1", "sin(X\u2081)"],
  ["sinx2", "sin(X\u2082)"]];
const ORANGE = [245, 147, 34], GREY = [232, 234, 235], BLUE = [8, 119, 189];
const CLASS_COLOURS = [[8, 119, 189], [245, 147, 34], [46, 160, 67], [148, 103, 189],
  [214, 39, 40], [140, 86, 75], [227, 119, 194], [23, 190, 207]];
const NODE = 30, GAP = 14, COLUMN_GAP = 60;

const $ = (id) => document.getElementById(id);
const pg = {  // page state; window.__pg for tests and the benchmark
  state: {}, accepted: null, limits: null, data: null, frame: null, playing: false,
  received: 0, drawn: 0, drawMs: 0, pendingAcks: 0, drawScheduled: false, curve: [], ws: null,
};
window.__pg = pg;

// ------------------------------------------------------------------ colours
function lerp(a, b, t) { return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * t)); }
function colourOf(v) {  // v in [-1, 1]
  v = Math.max(-1, Math.min(1, v));
  return v < 0 ? lerp(GREY, ORANGE, -v) : lerp(GREY, BLUE, v);
}
const PALETTE = Array.from({length: 256}, (_, i) => colourOf(i / 127.5 - 1));
function css(rgb) { return `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`; }
function bytes(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function paint(canvas, codes, discretize, classes) {
  const n = Math.round(Math.sqrt(codes.length));
  if (canvas.width !== n) { canvas.width = n; canvas.height = n; canvas.img = null; }
  const ctx = canvas.getContext("2d");
  if (!canvas.img) canvas.img = ctx.createImageData(n, n);
  const px = canvas.img.data;
  for (let i = 0; i < codes.length; i++) {
    let rgb;
    if (classes) {
      const t = discretize ? 1 : 0.25 + 0.75 * codes[i] / 255;
      rgb = lerp([255, 255, 255], CLASS_COLOURS[classes[i] % CLASS_COLOURS.length], t * 0.8);
    } else {
      rgb = discretize ? (codes[i] >= 128 ? BLUE : ORANGE) : PALETTE[codes[i]];
    }
    // alpha 160: translucent over white, as the TensorFlow Playground draws its heatmaps
    px[4 * i] = rgb[0]; px[4 * i + 1] = rgb[1]; px[4 * i + 2] = rgb[2]; px[4 * i + 3] = 160;
  }
  ctx.putImageData(canvas.img, 0, 0);
}

// All neuron heatmaps share one canvas over the network (one paint instead of dozens):
// each is painted at its own 10 x 10 size on a scratch canvas, then scaled into its box.
const scratch = document.createElement("canvas");
function paintNode(node, codes, discretize) {
  const ctx = $("maps").getContext("2d");
  paint(scratch, codes, discretize);
  ctx.fillStyle = "#fff";
  ctx.fillRect(node.x, node.y, NODE, NODE);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(scratch, node.x, node.y, NODE, NODE);
}

// ------------------------------------------------------------------ the set-up and the URL
function readHash() {
  const out = {};
  for (const part of location.hash.replace(/^#/, "").split("&")) {
    if (!part) continue;
    const [k, v = ""] = part.split("=");
    out[decodeURIComponent(k)] = decodeURIComponent(v);
  }
  return out;
}

function normalise(raw) {  // URL strings -> typed values (the server checks them all)
  const s = Object.assign({}, pg.limits ? pg.defaults : {}, raw);
  for (const k of ["features", "networkShape", "layerActivations", "dropout"]) {
    if (typeof s[k] === "string") s[k] = s[k] === "" ? [] : s[k].split(",");
  }
  s.networkShape = (s.networkShape || []).map(Number);
  s.dropout = (s.dropout || []).map(Number);
  for (const k of ["showTestData", "discretize"]) s[k] = s[k] === true || s[k] === "true";
  return s;
}

function writeHash() {
  const parts = Object.entries(pg.state).map(([k, v]) =>
    `${k}=${encodeURIComponent(Array.isArray(v) ? v.join(",") : String(v))}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}

function change(patch) {
  Object.assign(pg.state, patch);
  writeHash();
  render();
  const s = Object.assign({}, pg.state);
  delete s.showTestData; delete s.discretize;
  send({type: "setup", setup: s});
}

function send(msg) {
  if (pg.ws && pg.ws.readyState === WebSocket.OPEN) pg.ws.send(JSON.stringify(msg));
}

function say(text, kind) {
  const m = $("message");
  m.textContent = text || "";
  m.className = text ? (kind || "error") : "";
}

// ------------------------------------------------------------------ controls
function render() {
  const s = pg.state;
  for (const el of document.querySelectorAll("[data-key]")) {
    const v = s[el.dataset.key];
    if (v === undefined) continue;
    if (el.type === "checkbox") el.checked = !!v;
    else if (el.tagName === "SELECT") {
      const str = String(v);
      if (![...el.options].some((o) => o.value === str)) el.add(new Option(str, str));
      el.value = str;
    } else if (document.activeElement !== el) el.value = v;
    const label = $(el.id + "-value");
    if (label) label.textContent = el.id === "noise" ? `${v}` : v;
  }
  for (const b of document.querySelectorAll("[data-dataset]")) {
    b.setAttribute("aria-pressed", String(b.dataset.dataset === s.dataset));
  }
  const n = (s.networkShape || []).length;
  $("layer-count").textContent = s.model && s.model !== "mlp"
    ? `${s.model}: one unit, no hidden layer` : `${n} hidden layer${n === 1 ? "" : "s"}`;
  $("play").textContent = pg.playing ? "Pause" : "Play";
  $("play").classList.toggle("playing", pg.playing);
}

function wireControls() {
  for (const el of document.querySelectorAll("[data-key]")) {
    const key = el.dataset.key;
    const handler = () => {
      let v = el.type === "checkbox" ? el.checked : el.value;
      if (el.hasAttribute("data-num") && el.type !== "checkbox") v = Number(v);
      if (key === "showTestData" || key === "discretize") {
        pg.state[key] = v; writeHash(); draw(); return;
      }
      if (key === "problem" && pg.state.dataset !== "upload") {  // as the TensorFlow Playground:
        const reg = pg.state.dataset.startsWith("reg-");          // the problem picks the data
        if (v === "regression" && !reg) { change({problem: v, dataset: "reg-plane"}); return; }
        if (v === "classification" && reg) { change({problem: v, dataset: "circle"}); return; }
      }
      change({[key]: v});
    };
    el.addEventListener(el.tagName === "INPUT" && el.type === "range" ? "input" : "change", handler);
  }
  for (const b of document.querySelectorAll("[data-dataset]")) {
    b.addEventListener("click", () => {
      const d = b.dataset.dataset;
      change({dataset: d, problem: d.startsWith("reg-") ? "regression" : "classification"});
    });
  }
  $("play").addEventListener("click", () => send({type: pg.playing ? "pause" : "play"}));
  $("step").addEventListener("click", () => send({type: "step"}));
  $("reset").addEventListener("click", () => { pg.curve = []; send({type: "reset"}); });
  $("regenerate").addEventListener("click", () => change({dataSeed: (pg.state.dataSeed || 0) + 1}));
  $("add-layer").addEventListener("click", () => {
    const shape = pg.state.networkShape.concat([2]);
    change({networkShape: shape, layerActivations: pad(pg.state.layerActivations, shape.length, ""),
      dropout: pad(pg.state.dropout, shape.length, 0)});
  });
  $("remove-layer").addEventListener("click", () => {
    const shape = pg.state.networkShape.slice(0, -1);
    change({networkShape: shape, layerActivations: (pg.state.layerActivations || []).slice(0, shape.length),
      dropout: (pg.state.dropout || []).slice(0, shape.length)});
  });
  $("upload").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    ev.target.value = "";
    if (!file) return;
    if (file.size > pg.limits.maxMessageBytes / 2) {
      say(`The file ${file.name} has ${file.size.toLocaleString("en")} bytes; the playground ` +
        `accepts at most ${pg.limits.maxUploadBytes.toLocaleString("en")}. Upload fewer rows.`);
      return;
    }
    pg.uploadName = file.name;
    send({type: "upload", name: file.name, text: await file.text()});
  });
  $("export-snippet").addEventListener("click", () => send({type: "export_snippet"}));
  $("export-model").addEventListener("click", () => send({type: "export_model"}));
  $("weight-editor").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const e = pg.editing;
    $("weight-editor").hidden = true;
    if (e) send({type: "set_weight", layer: e.layer, row: e.row, col: e.col, value: Number($("weight-value").value)});
  });
  window.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") $("weight-editor").hidden = true;
  });
}

function pad(list, n, fill) {
  const out = (list || []).slice(0, n);
  while (out.length < n) out.push(fill);
  return out;
}

// ------------------------------------------------------------------ the network picture
function buildNetwork() {
  const net = $("network"), d = pg.data, s = pg.state;
  for (const el of net.querySelectorAll(".node, .layer-head, .feature")) el.remove();
  pg.nodes = [];  // pg.nodes[l][j] = {x, y, box, bias}; l = 0: the inputs
  pg.links = null;
  pg.hover = null;
  const columns = [s.features.length, ...d.layers];
  const tallest = Math.max(FEATURES.length, ...d.layers);
  const height = tallest * (NODE + GAP) + 70;
  const width = 90 + (columns.length - 1) * (NODE + COLUMN_GAP) + 40;
  net.style.width = width + "px"; net.style.height = height + "px";
  for (const c of [$("wires"), $("maps")]) {
    c.width = width; c.height = height;  // (clears it)
    c.style.width = width + "px"; c.style.height = height + "px";
  }
  const top = 64, xOf = (l) => 70 + l * (NODE + COLUMN_GAP);
  // inputs: every feature is shown; the chosen ones are drawn in the network
  const inputs = [];
  FEATURES.forEach(([key, label], i) => {
    const on = s.features.includes(key);
    const b = document.createElement("button");
    b.type = "button"; b.className = "feature" + (on ? " on" : "");
    b.setAttribute("aria-pressed", String(on));
    b.setAttribute("aria-label", `Feature ${label}`);
    b.style.left = "0px"; b.style.top = `${top + i * (NODE + GAP)}px`;
    b.innerHTML = `<span>${label}</span>`;
    b.addEventListener("click", () => {
      const f = on ? s.features.filter((x) => x !== key) : s.features.concat([key]);
      change({features: FEATURES.map((p) => p[0]).filter((k) => f.includes(k))});
    });
    net.appendChild(b);
    if (on) {
      const node = nodeBox(xOf(0), top + i * (NODE + GAP), `Feature ${label} map`);
      inputs.push(node);
      const idx = s.features.indexOf(key);
      if (d.inputs[idx]) paintNode(node, bytes(d.inputs[idx]), false);
    }
  });
  pg.nodes.push(inputs);
  d.layers.forEach((units, l) => {
    const x = xOf(l + 1), hidden = l < d.layers.length - 1;
    const offset = 0;
    const col = [];
    for (let j = 0; j < units; j++) {
      const y = top + offset + j * (NODE + GAP);
      const node = nodeBox(x, y, hidden ? `Layer ${l + 1} neuron ${j + 1}` : `Output ${j + 1}`);
      const bias = document.createElement("div");
      bias.className = "node bias"; bias.style.left = `${x - 4}px`; bias.style.top = `${y + NODE - 6}px`;
      bias.addEventListener("mouseenter", (ev) => tip(ev, () => `bias ${fmt(pg.frame.biases[l][j])}`));
      bias.addEventListener("mouseleave", untip);
      bias.addEventListener("click", (ev) => edit(ev, l, pg.frame.weights[l].length, j));
      $("network").appendChild(bias);
      node.bias = bias;
      col.push(node);
    }
    pg.nodes.push(col);
    const head = document.createElement("div");
    head.className = "layer-head"; head.style.left = `${x - 22}px`; head.style.top = "0px";
    if (hidden) {
      head.innerHTML = `<div><button type="button" aria-label="Add a neuron to layer ${l + 1}">+</button>` +
        `<button type="button" aria-label="Remove a neuron from layer ${l + 1}">&minus;</button></div>` +
        `<div class="units">${units} neuron${units === 1 ? "" : "s"}</div>`;
      const [plus, minus] = head.querySelectorAll("button");
      plus.addEventListener("click", () => resize(l, +1));
      minus.addEventListener("click", () => resize(l, -1));
      const act = selectFor(`Layer ${l + 1} activation`, [["", "(global)"], ...["tanh", "relu",
        "sigmoid", "linear", "leaky_relu", "elu", "softplus", "swish", "gelu"].map((a) => [a, a])],
      (s.layerActivations || [])[l] || "", (v) => change({layerActivations: setAt(s.layerActivations, l, v, "")}));
      const drop = selectFor(`Layer ${l + 1} dropout`, [0, 0.1, 0.2, 0.3, 0.5].map((r) => [String(r), r ? `drop ${r}` : "no dropout"]),
        String((s.dropout || [])[l] || 0), (v) => change({dropout: setAt(s.dropout, l, Number(v), 0)}));
      head.appendChild(act); head.appendChild(drop);
      head.style.top = `${top + tallest * (NODE + GAP) - 4}px`;
    } else {
      head.innerHTML = `<div class="units">output</div>`;
      head.style.top = "30px";
    }
    net.appendChild(head);
  });
  drawLinks();
}

function setAt(list, i, v, fill) {
  const out = pad(list, pg.state.networkShape.length, fill);
  out[i] = v;
  return out;
}

function resize(l, delta) {
  const shape = pg.state.networkShape.slice();
  shape[l] += delta;
  if (shape[l] < 1) return;
  change({networkShape: shape});
}

function selectFor(label, options, value, onChange) {
  const sel = document.createElement("select");
  sel.setAttribute("aria-label", label);
  for (const [v, text] of options) sel.add(new Option(text, v));
  sel.value = value;
  sel.addEventListener("change", () => onChange(sel.value));
  return sel;
}

function nodeBox(x, y, label) {  // the node's frame and name; its map is drawn on #maps
  const box = document.createElement("div");
  box.className = "node box"; box.setAttribute("role", "img"); box.setAttribute("aria-label", label);
  box.style.left = x + "px"; box.style.top = y + "px";
  $("network").appendChild(box);
  return {x, y, box};
}

// Links are drawn on a canvas (#wires, under the node maps): far cheaper to repaint every
// frame than hundreds of SVG paths. Each keeps its Path2D for hovering and clicking.
function drawLinks() {
  const f = pg.frame, wires = $("wires");
  if (!pg.nodes || !f) return;
  if (!pg.links || pg.links.shape !== JSON.stringify(pg.data.layers) + pg.state.features) {
    pg.links = [];
    pg.links.shape = JSON.stringify(pg.data.layers) + pg.state.features;
    for (let l = 0; l < pg.nodes.length - 1; l++) {
      pg.nodes[l].forEach((a, i) => pg.nodes[l + 1].forEach((b, j) => {
        const x0 = a.x + NODE, y0 = a.y + NODE / 2, x1 = b.x, y1 = b.y + NODE / 2, mx = (x0 + x1) / 2;
        const path = new Path2D(`M${x0},${y0} C${mx},${y0} ${mx},${y1} ${x1},${y1}`);
        pg.links.push({path, l, i, j, mid: {x: mx, y: (y0 + y1) / 2}});
      }));
    }
  }
  // quantized as the heatmaps (256 colours, quarter-pixel widths): repainted only when some
  // link would look different
  let changed = false;
  for (const k of pg.links) {
    const w = f.weights[k.l] && f.weights[k.l][k.i] ? f.weights[k.l][k.i][k.j] : 0;
    const shade = Math.round((Math.max(-1, Math.min(1, w)) + 1) * 127.5);
    const width = Math.round(4 * (1 + 9 * Math.min(Math.abs(w), 5) / 5)) / 4;
    if (shade !== k.shade || width !== k.width) { k.shade = shade; k.width = width; changed = true; }
  }
  if (!changed && !pg.links.drawn) return;
  pg.links.drawn = false;
  const ctx = wires.getContext("2d");
  ctx.clearRect(0, 0, wires.width, wires.height);
  ctx.globalAlpha = 0.85;
  for (const k of pg.links) {
    ctx.strokeStyle = css(PALETTE[k.shade]);
    ctx.lineWidth = k.width;
    ctx.stroke(k.path);
  }
  if (pg.hover) {  // the hovered link on top, opaque
    ctx.globalAlpha = 1;
    ctx.strokeStyle = css(PALETTE[pg.hover.shade]);
    ctx.lineWidth = pg.hover.width + 1;
    ctx.stroke(pg.hover.path);
  }
}

function linkAt(ev) {
  const wires = $("wires"), r = wires.getBoundingClientRect(), ctx = wires.getContext("2d");
  const x = ev.clientX - r.left, y = ev.clientY - r.top;
  for (let n = (pg.links || []).length - 1; n >= 0; n--) {
    const k = pg.links[n];
    ctx.lineWidth = Math.max(k.width, 6);
    if (ctx.isPointInStroke(k.path, x, y)) return k;
  }
  return null;
}

function wireLinks() {
  const wires = $("wires");
  wires.addEventListener("mousemove", (ev) => {
    const k = linkAt(ev);
    if (k !== pg.hover) { pg.hover = k; pg.links.drawn = true; drawLinks(); }
    wires.style.cursor = k ? "pointer" : "default";
    if (k) tip(ev, () => `weight ${fmt(pg.frame.weights[k.l][k.i][k.j])}`); else untip();
  });
  wires.addEventListener("mouseleave", () => { pg.hover = null; untip(); });
  wires.addEventListener("click", (ev) => {
    const k = linkAt(ev);
    if (k) edit(ev, k.l, k.i, k.j);
  });
}

function tip(ev, text) {
  const t = $("tooltip");
  t.textContent = text();
  t.hidden = false;
  const r = $("network").getBoundingClientRect();
  t.style.left = `${ev.clientX - r.left + 12}px`; t.style.top = `${ev.clientY - r.top + 12}px`;
}
function untip() { $("tooltip").hidden = true; }

function edit(ev, layer, row, col) {
  const bias = row === pg.frame.weights[layer].length;
  pg.editing = {layer, row, col};
  const e = $("weight-editor"), r = $("network").getBoundingClientRect();
  e.style.left = `${ev.clientX - r.left}px`; e.style.top = `${ev.clientY - r.top}px`;
  e.querySelector("label").firstChild.textContent = bias ? "Bias " : "Weight ";
  $("weight-value").value = bias ? pg.frame.biases[layer][col] : pg.frame.weights[layer][row][col];
  e.hidden = false;
  $("weight-value").focus();
}

// ------------------------------------------------------------------ frames
function fmt(v) { return v === null || v === undefined ? "\u2013" : Number(v).toFixed(3); }

function onFrame(f) {
  pg.frame = f;
  pg.received++;
  pg.pendingAcks++;
  if (f.epoch === 0) pg.curve = [];
  pg.curve = pg.curve.filter((p) => p[0] < f.epoch);
  pg.curve.push([f.epoch, f.trainLoss, f.testLoss]);
  if (pg.curve.length > 2000) pg.curve.splice(0, pg.curve.length - 2000);
  if (!pg.drawScheduled) { pg.drawScheduled = true; requestAnimationFrame(draw); }
}

function draw() {
  pg.drawScheduled = false;
  const f = pg.frame, t0 = performance.now();
  if (f && pg.data) {
    const disc = !!pg.state.discretize;
    paint($("boundary"), bytes(f.boundary), disc, f.boundaryClass ? bytes(f.boundaryClass) : null);
    document.querySelector(".legend").style.visibility = f.boundaryClass ? "hidden" : "visible";
    if (pg.nodes) {
      f.neurons.forEach((layer, l) => layer.forEach((b64, j) => {
        const node = pg.nodes[l + 1] && pg.nodes[l + 1][j];
        if (node) paintNode(node, bytes(b64), disc && l === f.neurons.length - 1);
      }));
      pg.nodes.slice(1).forEach((col, l) => col.forEach((n, j) => {
        n.bias.style.background = css(colourOf(f.biases[l][j]));
      }));
      drawLinks();
    }
    setOutput("epoch", f.epoch.toLocaleString("en", {minimumIntegerDigits: 6}), f.epoch);
    setOutput("train-loss", fmt(f.trainLoss), f.trainLoss);
    setOutput("test-loss", fmt(f.testLoss), f.testLoss);
    setOutput("train-accuracy", f.trainAccuracy === undefined ? "\u2013" : (100 * f.trainAccuracy).toFixed(1) + "%", f.trainAccuracy);
    setOutput("test-accuracy", f.testAccuracy === undefined ? "\u2013" : (100 * f.testAccuracy).toFixed(1) + "%", f.testAccuracy);
    drawConfusion(f.confusion);
    drawCurve();
    const pointsKey = [pg.data.train.length, pg.data.test.length, pg.data.setup.dataSeed,
      pg.data.setup.dataset, !!pg.state.showTestData, JSON.stringify(pg.data.domain)].join();
    if (pg.pointsKey !== pointsKey || pg.pointsData !== pg.data) {  // points move only with the data
      pg.pointsKey = pointsKey; pg.pointsData = pg.data;
      drawPoints();
    }
    setText($("stop-reason"), f.stopReason ? `Stopped: ${f.stopReason}.` : "");
    pg.drawn++;
    pg.drawMs += performance.now() - t0;
  }
  while (pg.pendingAcks > 0) { pg.pendingAcks--; send({type: "ack"}); }
}

function setText(el, text) {  // untouched when unchanged: no needless layout and repaint
  if (el.textContent !== text) el.textContent = text;
}

function setOutput(id, text, value) {
  const el = $(id), v = value === undefined || value === null ? "" : String(value);
  setText(el, text);
  if (el.dataset.value !== v) el.dataset.value = v;
}

function drawConfusion(m) {
  const t = $("confusion"), key = JSON.stringify(m || null) + (pg.data.classes || "");
  if (t.key === key) return;
  t.key = key;
  if (!m) { t.innerHTML = ""; return; }
  const names = pg.data.classes || (pg.data.output === "softmax" ? ["0", "1"] : ["\u22121", "+1"]);
  let html = `<caption>Confusion matrix (test): rows true, columns predicted</caption><tr><th></th>` +
    names.map((n) => `<th scope="col">${esc(n)}</th>`).join("") + "</tr>";
  m.forEach((row, i) => {
    html += `<tr><th scope="row">${esc(names[i])}</th>` +
      row.map((c, j) => `<td class="${i === j ? "hit" : c ? "miss" : ""}">${c}</td>`).join("") + "</tr>";
  });
  t.innerHTML = html;
}
function esc(s) { return String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }

function drawCurve() {
  const c = $("curve"), ctx = c.getContext("2d"), pts = pg.curve;
  ctx.clearRect(0, 0, c.width, c.height);
  if (pts.length < 2) return;
  let max = 0;
  for (const p of pts) max = Math.max(max, p[1], p[2]);
  max = max || 1;
  const x0 = pts[0][0], span = Math.max(1, pts[pts.length - 1][0] - x0);
  [[1, "#999"], [2, "#000"]].forEach(([k, colour]) => {
    ctx.beginPath(); ctx.strokeStyle = colour; ctx.lineWidth = 1.5;
    pts.forEach((p, i) => {
      const x = ((p[0] - x0) / span) * (c.width - 2) + 1, y = c.height - 2 - (Math.min(p[k], max) / max) * (c.height - 4);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  });
}

function drawPoints() {
  const c = $("points"), ctx = c.getContext("2d"), d = pg.data;
  ctx.clearRect(0, 0, c.width, c.height);
  const [[a0, a1], [b0, b1]] = d.domain;
  const sx = (v) => ((v - a0) / (a1 - a0)) * c.width, sy = (v) => ((b1 - v) / (b1 - b0)) * c.height;
  const sets = [[d.train, d.nClasses ? "#fff" : "#777"]];  // regression: values near 0 are white
  if (pg.state.showTestData) sets.push([d.test, "#000"]);
  for (const [pts, stroke] of sets) {
    for (const [x, y, label] of pts) {
      let fill;
      if (d.nClasses > 2) fill = css(CLASS_COLOURS[label % CLASS_COLOURS.length]);
      else if (d.nClasses === 2) fill = css(label > 0 ? BLUE : ORANGE);
      else fill = css(colourOf(label));
      ctx.beginPath(); ctx.arc(sx(x), sy(y), 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = fill; ctx.fill(); ctx.lineWidth = 1; ctx.strokeStyle = stroke; ctx.stroke();
    }
  }
}

// ------------------------------------------------------------------ the socket
function onMessage(ev) {
  const m = JSON.parse(ev.data);
  switch (m.type) {
    case "hello":
      pg.limits = m.limits; pg.defaults = m.defaults;
      pg.state = normalise(readHash());
      change({});
      break;
    case "data":
      if (pg.keepMessage) pg.keepMessage = false;
      else say(m.notes.length ? "mlplab notes: " + m.notes.join(" ") : "", "note");
      pg.data = m; pg.accepted = Object.assign({}, m.setup); pg.frame = null; pg.curve = [];
      adopt(m.setup);
      buildNetwork();
      break;
    case "setup":
      say(""); pg.accepted = Object.assign({}, m.setup); adopt(m.setup);
      break;
    case "frame": onFrame(m); break;
    case "state":
      pg.playing = m.playing; render();
      break;
    case "uploaded":
      $("upload-info").textContent = `${pg.uploadName || "CSV"}: ${m.rows} rows, columns ${m.columns.join(", ")}` +
        (m.classes ? `, ${m.classes.length} classes (${m.classes.join(", ")})` : ", a real-valued target");
      change({dataset: "upload", problem: m.problem, dataSeed: pg.state.dataSeed});
      break;
    case "snippet":
      $("snippet").value = m.text;
      $("snippet-download").href = URL.createObjectURL(new Blob([m.text], {type: "text/x-python"}));
      $("snippet-download").hidden = false;
      if (m.edited) say("Weights were edited by hand in this run; the snippet replays the training only.", "note");
      break;
    case "model_file": {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([bytes(m.data)], {type: "application/octet-stream"}));
      a.download = m.name; document.body.appendChild(a); a.click(); a.remove();
      break;
    }
    case "error":
      if (pg.accepted) {
        say(m.message);
        adopt(pg.accepted);
      } else {  // the link's own set-up was refused: say why, then start from the defaults
        say(`${m.message} The defaults are shown instead.`);
        pg.keepMessage = true;
        pg.state = normalise({});
        change({});
      }
      break;
  }
}

function adopt(setup) {  // the server's checked set-up becomes the page's (and the URL's)
  const keep = {showTestData: pg.state.showTestData, discretize: pg.state.discretize};
  pg.state = Object.assign({}, setup, keep);
  writeHash();
  render();
}

function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  pg.ws = ws;
  ws.onmessage = onMessage;
  ws.onclose = (ev) => {
    pg.playing = false; render();
    say(ev.code === 1009 ? "The message was too large for the server; the connection closed. Reload the page."
      : "The connection to the playground server closed; restart it (mlplab playground) and reload.");
  };
}

wireControls();
wireLinks();
connect();
