/**
 * Writes a model as a tfjs LayersModel folder that a browser opens with
 * plain `tf.loadLayersModel("…/model.json")`: `model.json` (topology with
 * p2p's `SeededDropout` written as `Dropout`) and weight shards
 * `group1-shard<i>of<n>.bin`, optionally quantised the way
 * tfjs-converter does it (`quantization` entries in the weights manifest,
 * which tfjs decodes on load: float16, or uint8 with a per-tensor affine
 * `min`/`scale`).
 *
 * @module
 */
import { concatBytes, oneOf } from "@p2p/internal";
import { type LayersModel, modelArtifacts } from "@p2p/models";

/** Weight encodings: float32 as trained, float16, or uint8 (affine per tensor). */
export type Quantization = "none" | "float16" | "uint8";

/** Valid {@linkcode Quantization} values. */
export const QUANTIZATIONS: readonly Quantization[] = [
  "none",
  "float16",
  "uint8",
];

/** Options of {@linkcode tfjsArtifacts} and {@linkcode writeTfjsModel}. */
export interface TfjsExportOptions {
  /** Weight encoding. @default "none" */
  quantize?: Quantization;
  /** Largest weight shard in bytes (tfjs-converter uses 4 MiB). @default 4194304 */
  shardBytes?: number;
}

/** A weights-manifest entry as tfjs reads it. */
export interface WeightEntry {
  /** Weight name, e.g. `e1_conv/kernel`. */
  name: string;
  /** Shape. */
  shape: number[];
  /** Stored dtype before quantisation. */
  dtype: "float32" | "int32";
  /** Quantisation, as tfjs-converter writes it. */
  quantization?: {
    /** Stored type. */
    dtype: "float16" | "uint8";
    /** Value of the stored 0 (uint8). */
    min?: number;
    /** Step between stored values (uint8). */
    scale?: number;
    /** Type the values decode to. */
    original_dtype?: "float32";
  };
}

/** The files of a tfjs LayersModel folder, in memory. */
export interface TfjsArtifacts {
  /** The content of `model.json`. */
  modelJson: Record<string, unknown>;
  /** Weight shards, named as `model.json` lists them. */
  shards: { name: string; bytes: Uint8Array }[];
}

type TopologyLayer = { class_name?: string; config?: Record<string, unknown> };

/** Custom layer classes a topology still needs registered to load in plain tfjs. */
export function customClasses(topology: unknown): string[] {
  const builtIn = new Set([
    "InputLayer",
    "Conv2D",
    "Conv2DTranspose",
    "BatchNormalization",
    "LeakyReLU",
    "ReLU",
    "Activation",
    "Concatenate",
    "Dropout",
    "ZeroPadding2D",
    "Cropping2D",
    "Add",
    "Dense",
    "Flatten",
    "Softmax",
  ]);
  const layers =
    (topology as { config?: { layers?: TopologyLayer[] } })?.config?.layers ??
      [];
  return [
    ...new Set(
      layers.map((l) => l.class_name ?? "").filter((c) => !builtIn.has(c)),
    ),
  ];
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** float32 → IEEE half (round to nearest even, overflow to ±∞). */
export function toFloat16(value: number): number {
  F32[0] = value;
  const x = U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflow to ±0
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/**
 * uint8 affine quantisation as tfjs-converter does it: scale = range / 255,
 * the minimum nudged so that 0 is exactly representable.
 */
export function quantizeUint8(
  values: Float32Array,
): { data: Uint8Array; min: number; scale: number } {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (values.length === 0) lo = hi = 0;
  let scale = (hi - lo) / 255;
  let min = lo;
  if (scale === 0) {
    scale = 1;
  } else if (lo <= 0 && hi >= 0) {
    min = -Math.round(-lo / scale) * scale;
  }
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const q = Math.round((values[i] - min) / scale);
    data[i] = q < 0 ? 0 : q > 255 ? 255 : q;
  }
  return { data, min, scale };
}

/**
 * The `model.json` and weight shards of `model` (weights quantised as
 * asked). The first weight group holds every weight, split into shards of
 * at most `shardBytes`.
 */
export async function tfjsArtifacts(
  model: LayersModel,
  options: TfjsExportOptions = {},
): Promise<TfjsArtifacts> {
  const quantize = options.quantize ?? "none";
  oneOf("quantize", quantize, QUANTIZATIONS);
  const shardBytes = options.shardBytes ?? 4 * 1024 * 1024;
  const a = await modelArtifacts(model);
  const weightData = a.weights;
  const entries: WeightEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of a.weightSpecs) {
    const n = spec.shape.reduce((x, y) => x * y, 1);
    const raw = weightData.slice(offset, offset + 4 * n);
    offset += 4 * n;
    const entry: WeightEntry = {
      name: spec.name,
      shape: spec.shape,
      dtype: spec.dtype as "float32" | "int32",
    };
    if (spec.dtype !== "float32" || quantize === "none") {
      parts.push(raw);
    } else if (quantize === "float16") {
      const f = new Float32Array(raw.buffer);
      const h = new Uint16Array(n);
      for (let i = 0; i < n; i++) h[i] = toFloat16(f[i]);
      entry.quantization = { dtype: "float16", original_dtype: "float32" };
      parts.push(new Uint8Array(h.buffer));
    } else {
      const q = quantizeUint8(new Float32Array(raw.buffer));
      entry.quantization = {
        dtype: "uint8",
        min: q.min,
        scale: q.scale,
        original_dtype: "float32",
      };
      parts.push(q.data);
    }
    entries.push(entry);
  }
  const all = concatBytes(parts);
  const total = all.length;
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards = Array.from({ length: count }, (_, i) => ({
    name: `group1-shard${i + 1}of${count}.bin`,
    bytes: all.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)),
  }));
  const modelJson = {
    format: "layers-model",
    generatedBy: a.generatedBy,
    convertedBy: `p2p interop${quantize === "none" ? "" : ` (${quantize})`}`,
    modelTopology: a.topology,
    weightsManifest: [{ paths: shards.map((s) => s.name), weights: entries }],
  };
  return { modelJson, shards };
}

/** What {@linkcode writeTfjsModel} wrote. */
export interface TfjsExportResult {
  /** The folder. */
  dir: string;
  /** File names written in it. */
  files: string[];
  /** Bytes of the weight shards. */
  weightBytes: number;
  /** Bytes of all files. */
  totalBytes: number;
  /** Custom layer classes the browser must register before loading (none for a batch-norm U-Net). */
  customClasses: string[];
}

/**
 * Writes `model` as a tfjs LayersModel folder, atomically (a sibling
 * temporary folder renamed over `dir`).
 *
 * @example
 * ```ts
 * import { unet } from "@p2p/models";
 * import { writeTfjsModel } from "@p2p/interop";
 * const dir = await Deno.makeTempDir();
 * const r = await writeTfjsModel(`${dir}/web`, unet({ depth: 5, ngf: 2, size: 32 }), { quantize: "float16" });
 * console.log(r.files); // [ "model.json", "group1-shard1of1.bin" ]
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeTfjsModel(
  dir: string,
  model: LayersModel,
  options: TfjsExportOptions = {},
): Promise<TfjsExportResult> {
  const { modelJson, shards } = await tfjsArtifacts(model, options);
  const clean = dir.replace(/\/+$/, "");
  const tmp = `${clean}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp, { recursive: true });
  const files = ["model.json", ...shards.map((s) => s.name)];
  let totalBytes = 0;
  try {
    for (const s of shards) {
      await Deno.writeFile(`${tmp}/${s.name}`, s.bytes);
      totalBytes += s.bytes.length;
    }
    const json = new TextEncoder().encode(JSON.stringify(modelJson));
    await Deno.writeFile(`${tmp}/model.json`, json);
    totalBytes += json.length;
    const old = `${clean}.old-${crypto.randomUUID().slice(0, 8)}`;
    let moved = false;
    try {
      await Deno.rename(clean, old);
      moved = true;
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    await Deno.rename(tmp, clean);
    if (moved) await Deno.remove(old, { recursive: true });
  } catch (e) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    dir: clean,
    files,
    weightBytes: shards.reduce((s, x) => s + x.bytes.length, 0),
    totalBytes,
    customClasses: customClasses(modelJson.modelTopology),
  };
}
