// The p2p page: draw a label map (or edges), or upload an image, and see the
// generator's translation computed here by tfjs. Backend: WebGPU when the
// browser has it, else WebGL, else wasm (else the CPU backend); `?backend=`
// forces one. The state is on `window.p2p` for tests.
import { registerP2pLayers } from "./p2p_layers.js";
import { declaredSize } from "./image_size.js";

const tf = globalThis.tf;
const $ = (id) => document.getElementById(id);

/** What the page is doing; read by tests (tests/browser_test.ts). */
const state = globalThis.p2p = {
  ready: false,
  error: null,
  backend: null,
  backendNotes: [],
  size: 0,
  inChannels: 3,
  outChannels: 3,
  mode: "eval",
  translations: 0,
  busy: false,
  lastOutput: null,
  lastMs: 0,
  maxPixels: 50_000_000,
};

function setStatus(text, isError = false) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", isError);
}

async function tryBackend(name) {
  if (name === "webgpu") {
    if (!navigator.gpu) throw new Error("navigator.gpu is missing");
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) throw new Error("no WebGPU adapter");
  }
  if (name === "wasm") {
    tf.wasm.setWasmPaths(new URL("vendor/", location.href).href);
  }
  if (!tf.findBackendFactory(name)) throw new Error("not bundled");
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error("initialisation failed");
  await tf.ready();
  // A real op, read back: some backends initialise but cannot compute.
  const t = tf.add(tf.scalar(1), tf.scalar(2));
  const v = (await t.data())[0];
  t.dispose();
  if (v !== 3) throw new Error(`1 + 2 gave ${v}`);
}

/** WebGPU, else WebGL, else wasm, else CPU; or the one named by ?backend=. */
async function chooseBackend() {
  const forced = new URLSearchParams(location.search).get("backend");
  const order = forced ? [forced] : ["webgpu", "webgl", "wasm", "cpu"];
  for (const name of order) {
    try {
      await tryBackend(name);
      return name;
    } catch (e) {
      state.backendNotes.push(`${name}: ${e.message ?? e}`);
    }
  }
  throw new Error(`no tfjs backend works (${state.backendNotes.join("; ")})`);
}

// ------------------------------------------------------------------ drawing

const input = $("input");
const output = $("output");
const ictx = input.getContext("2d", { willReadFrequently: true });
let palette = [];
let colour = "rgb(0,0,0)";

function rgb(c) {
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function inputMode() {
  return $("input-mode").value;
}

function background() {
  // Labels start as a plain facade (class 1) on the background class; edges on white.
  return inputMode() === "labels" && palette.length > 1
    ? rgb(palette[1].color)
    : "rgb(255,255,255)";
}

function clearInput() {
  ictx.fillStyle = background();
  ictx.fillRect(0, 0, input.width, input.height);
  if (inputMode() === "labels" && palette.length > 0) {
    // A background band at the top, as facade label maps have (sky).
    ictx.fillStyle = rgb(palette[0].color);
    ictx.fillRect(0, 0, input.width, Math.round(input.height / 8));
  }
}

function buildPalette() {
  const box = $("palette");
  box.replaceChildren();
  if (inputMode() !== "labels") {
    colour = "rgb(0,0,0)";
    return;
  }
  for (const c of palette) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.id = String(c.id);
    b.setAttribute("aria-pressed", "false");
    const sw = document.createElement("span");
    sw.className = "swatch";
    sw.style.background = rgb(c.color);
    b.append(sw, c.name);
    b.addEventListener("click", () => pick(c.id));
    box.append(b);
  }
  pick(palette.length > 2 ? 2 : 0); // window
}

function pick(id) {
  const c = palette.find((p) => p.id === id);
  if (!c) return;
  colour = rgb(c.color);
  for (const b of $("palette").children) {
    b.setAttribute("aria-pressed", String(b.dataset.id === String(id)));
  }
}

function toCanvas(ev) {
  const r = input.getBoundingClientRect();
  return [
    Math.floor((ev.clientX - r.left) * input.width / r.width),
    Math.floor((ev.clientY - r.top) * input.height / r.height),
  ];
}

// Strokes are stamped as squares at integer positions: no anti-aliasing, so a
// label map keeps exactly the palette's colours.
function stamp(x, y) {
  const s = Number($("brush").value);
  const h = Math.floor(s / 2);
  ictx.fillStyle = colour;
  ictx.fillRect(x - h, y - h, s, s);
}

function line(x0, y0, x1, y1) {
  const n = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= n; i++) {
    stamp(
      Math.round(x0 + (x1 - x0) * i / n),
      Math.round(y0 + (y1 - y0) * i / n),
    );
  }
}

let drag = null;
let snapshot = null;

input.addEventListener("pointerdown", (ev) => {
  input.setPointerCapture(ev.pointerId);
  const [x, y] = toCanvas(ev);
  drag = { x0: x, y0: y, x, y };
  if ($("tool").value === "rect") {
    snapshot = ictx.getImageData(0, 0, input.width, input.height);
  } else stamp(x, y);
});

input.addEventListener("pointermove", (ev) => {
  if (!drag) return;
  const [x, y] = toCanvas(ev);
  if ($("tool").value === "rect") {
    ictx.putImageData(snapshot, 0, 0);
    ictx.fillStyle = colour;
    ictx.fillRect(
      Math.min(drag.x0, x),
      Math.min(drag.y0, y),
      Math.abs(x - drag.x0) + 1,
      Math.abs(y - drag.y0) + 1,
    );
  } else line(drag.x, drag.y, x, y);
  drag.x = x;
  drag.y = y;
});

input.addEventListener("pointerup", () => {
  if (!drag) return;
  drag = null;
  snapshot = null;
  schedule();
});

$("clear").addEventListener("click", () => {
  clearInput();
  schedule();
});

$("input-mode").addEventListener("change", () => {
  $("tool").value = inputMode() === "labels" ? "rect" : "brush";
  $("brush").value = inputMode() === "labels" ? "4" : "2";
  buildPalette();
  clearInput();
  schedule();
});

$("mode").addEventListener("change", () => {
  state.mode = $("mode").value;
  schedule();
});

async function drawImageUrl(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  ictx.imageSmoothingEnabled = true;
  ictx.imageSmoothingQuality = "high";
  ictx.drawImage(img, 0, 0, input.width, input.height);
}

$("upload").addEventListener("change", async (ev) => {
  const file = ev.target.files?.[0];
  if (!file) return;
  const head = new Uint8Array(await file.slice(0, 65536).arrayBuffer());
  const size = declaredSize(head);
  if (size && size.width * size.height > state.maxPixels) {
    setStatus(
      `${file.name} is ${size.width}×${size.height}, above the limit of ${state.maxPixels} pixels; not decoded`,
      true,
    );
    return;
  }
  const url = URL.createObjectURL(file);
  try {
    await drawImageUrl(url);
    schedule();
  } catch (e) {
    setStatus(`cannot read ${file.name}: ${e.message ?? e}`, true);
  } finally {
    URL.revokeObjectURL(url);
  }
});

let exampleIndex = 0;
$("example").addEventListener("click", async () => {
  try {
    await drawImageUrl(`example.png?i=${exampleIndex++}`);
    schedule();
  } catch {
    setStatus("no example: the model's data set is not an embedded one", true);
  }
});

// -------------------------------------------------------------- inference

let model = null;
let pending = false;

function schedule() {
  pending = true;
  if (!state.busy && model) void run();
}

async function run() {
  state.busy = true;
  try {
    while (pending) {
      pending = false;
      await translate();
    }
  } catch (e) {
    state.error = String(e.message ?? e);
    setStatus(`translation failed: ${state.error}`, true);
  } finally {
    state.busy = false;
  }
}

function batchNormLayers() {
  return model.layers.filter((l) => l.getClassName() === "BatchNormalization");
}

async function translate() {
  const t0 = performance.now();
  const paper = state.mode === "paper";
  // tfjs BatchNormalization updates its moving statistics when called with
  // training: true; keep them so that eval mode is unaffected by paper runs.
  const saved = paper
    ? batchNormLayers().map((l) => [l, l.getWeights().map((w) => tf.clone(w))])
    : [];
  const y = tf.tidy(() => {
    let x = tf.browser.fromPixels(input).toFloat().div(127.5).sub(1);
    if (state.inChannels === 1) x = x.mean(2, true);
    const batch = x.expandDims(0);
    const out = paper
      ? model.apply(batch, { training: true })
      : model.predict(batch);
    return out.squeeze([0]).add(1).div(2).clipByValue(0, 1);
  });
  for (const [layer, weights] of saved) {
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  const values = await y.data();
  await tf.browser.toPixels(y, output);
  y.dispose();
  state.lastMs = performance.now() - t0;
  state.lastOutput = Array.from(values);
  state.translations++;
  $("timing").textContent = `${state.lastMs.toFixed(0)} ms, ${state.mode} mode`;
  setStatus(statusLine());
}

function statusLine() {
  const notes = state.backendNotes.length
    ? ` (not used: ${state.backendNotes.join("; ")})`
    : "";
  return `Backend: ${state.backend}${notes}`;
}

// ------------------------------------------------------------------ start

async function main() {
  setStatus("Loading tfjs…");
  state.backend = await chooseBackend();
  registerP2pLayers(tf);
  setStatus(`Backend: ${state.backend}. Loading the model…`);
  const [info, pal] = await Promise.all([
    fetch("model/p2p.json").then((r) => r.json()),
    fetch("palette.json").then((r) => r.json()),
  ]);
  palette = pal;
  if (Number.isSafeInteger(info.maxPixels)) state.maxPixels = info.maxPixels;
  model = await tf.loadLayersModel("model/model.json");
  const g = info.generator ?? {};
  const shape = model.inputs[0].shape;
  state.size = shape[1] ?? g.size ?? info.data?.size ?? 256;
  state.inChannels = shape[3] ?? g.inChannels ?? 3;
  state.outChannels = model.outputs[0].shape[3] ?? g.outChannels ?? 3;
  for (const c of [input, output]) {
    c.width = state.size;
    c.height = state.size;
  }
  const source = String(info.data?.source ?? "");
  $("input-mode").value = /edges|shapes/.test(source) ? "edges" : "labels";
  $("input-mode").dispatchEvent(new Event("change"));
  $("example").hidden = !info.example;
  $("input-kind").textContent = `${state.size}×${state.size}, ${
    state.inChannels === 1 ? "grey" : "RGB"
  }`;
  $("model-info").textContent = `Generator: ${g.kind ?? "?"}${
    g.depth ? ` depth ${g.depth}` : ""
  }${g.ngf ? `, ngf ${g.ngf}` : ""}, ${
    model.countParams().toLocaleString("en")
  } weights${
    info.quantize && info.quantize !== "none" ? ` (${info.quantize})` : ""
  }; data: ${source || "?"}; checkpoint: ${info.checkpoint ?? "?"}.`;
  state.ready = true;
  setStatus(statusLine());
  await run();
}

main().catch((e) => {
  state.error = String(e.message ?? e);
  setStatus(`error: ${state.error}`, true);
});
