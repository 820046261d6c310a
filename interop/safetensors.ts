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

/**
 * Checks one header entry against the file before anything is copied: a
 * known dtype, a shape of non-negative integers, integer offsets inside the
 * data, and as many bytes as the shape needs.
 */
function checkEntry(
  key: string,
  raw: unknown,
  dataBytes: number,
  label: string,
): { dtype: TorchDType; shape: number[]; start: number; end: number } {
  const info = raw as {
    dtype?: unknown;
    shape?: unknown;
    data_offsets?: unknown;
  };
  const dtype = FROM_ST[String(info?.dtype)];
  if (!dtype) {
    throw new Error(`${label}: "${key}" has unsupported dtype ${info?.dtype}`);
  }
  const shape = info.shape;
  if (
    !Array.isArray(shape) || shape.length > 64 ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new Error(
      `${label}: "${key}" shape must be a list of non-negative integers`,
    );
  }
  const offsets = info.data_offsets;
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new Error(
      `${label}: "${key}" data_offsets must be two non-negative integers`,
    );
  }
  const [start, end] = offsets as [number, number];
  if (start > end || end > dataBytes) {
    throw new Error(
      `${label}: "${key}" data_offsets [${start}, ${end}] out of range (${dataBytes} data bytes)`,
    );
  }
  const es = dtype === "bool" || dtype === "uint8" || dtype === "int8"
    ? 1
    : dtype === "float64" || dtype === "int64"
    ? 8
    : dtype === "float32" || dtype === "int32"
    ? 4
    : 2;
  const need = (shape as number[]).reduce((a, b) => a * b, 1) * es;
  if (need !== end - start) {
    throw new Error(
      `${label}: "${key}" of shape [${shape}] ${dtype} needs ${need} bytes, data_offsets give ${
        end - start
      }`,
    );
  }
  return { dtype, shape: shape as number[], start, end };
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
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(
      `${label}: the header is not valid JSON (${(e as Error).message})`,
    );
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(`${label}: the header is not a JSON object`);
  }
  const base = 8 + n;
  const out: StateDict = new Map();
  for (const [key, raw] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const { dtype, shape, start, end } = checkEntry(
      key,
      raw,
      bytes.length - base,
      label,
    );
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
    out.set(key, { dtype, shape: shape.slice(), data });
  }
  return out;
}
