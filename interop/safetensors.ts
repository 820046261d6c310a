/**
 * The safetensors format: an 8-byte little-endian header length, a JSON
 * header `{name: {dtype, shape, data_offsets}}` (plus `__metadata__`), then
 * the raw little-endian tensor data, contiguous and in header order.
 *
 * @module
 */
import type { StateDict, TorchDType } from "./torch_load.ts";

const TO_ST: Record<TorchDType, string> = {
  float32: "F32",
  float64: "F64",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint8: "U8",
  bool: "BOOL",
};

const FROM_ST: Record<string, TorchDType> = Object.fromEntries(
  Object.entries(TO_ST).map(([k, v]) => [v, k as TorchDType]),
);

/**
 * Encodes a state dict as safetensors bytes. Metadata values must be
 * strings (the format's rule).
 *
 * @example
 * ```ts
 * import { decodeSafetensors, encodeSafetensors } from "@p2p/interop";
 * const bytes = encodeSafetensors(new Map([
 *   ["w", { dtype: "float32", shape: [2], data: Float32Array.of(1, 2) }],
 * ]));
 * console.log(decodeSafetensors(bytes).get("w")?.data); // Float32Array(2) [ 1, 2 ]
 * ```
 */
export function encodeSafetensors(
  stateDict: StateDict,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [key, t] of stateDict) {
    const n = t.data.byteLength;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(
        `safetensors: "${key}" has shape [${t.shape}] (${count} values) but ${t.data.length} values`,
      );
    }
    header[key] = {
      dtype: TO_ST[t.dtype],
      shape: t.shape,
      data_offsets: [offset, offset + n],
    };
    offset += n;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of stateDict.values()) {
    out.set(
      new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      at,
    );
    at += t.data.byteLength;
  }
  return out;
}

/** Decodes safetensors bytes into a state dict (tensors copied out). */
export function decodeSafetensors(
  bytes: Uint8Array,
  label = "safetensors",
): StateDict {
  if (bytes.length < 8) throw new Error(`${label}: too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (8 + n > bytes.length) {
    throw new Error(
      `${label}: header length ${n} exceeds the file (${bytes.length} bytes)`,
    );
  }
  const header = JSON.parse(
    new TextDecoder().decode(bytes.subarray(8, 8 + n)),
  ) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + n;
  const out: StateDict = new Map();
  for (const [key, info] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const dtype = FROM_ST[info.dtype];
    if (!dtype) {
      throw new Error(`${label}: "${key}" has unsupported dtype ${info.dtype}`);
    }
    const [start, end] = info.data_offsets;
    if (base + end > bytes.length || start > end) {
      throw new Error(`${label}: "${key}" data_offsets out of range`);
    }
    const buf = bytes.slice(base + start, base + end).buffer;
    let data;
    switch (dtype) {
      case "float32":
        data = new Float32Array(buf);
        break;
      case "float64":
        data = new Float64Array(buf);
        break;
      case "float16":
      case "bfloat16":
        data = new Uint16Array(buf);
        break;
      case "int64":
        data = new BigInt64Array(buf);
        break;
      case "int32":
        data = new Int32Array(buf);
        break;
      case "int16":
        data = new Int16Array(buf);
        break;
      case "int8":
        data = new Int8Array(buf);
        break;
      default:
        data = new Uint8Array(buf);
    }
    out.set(key, { dtype, shape: info.shape, data });
  }
  return out;
}
