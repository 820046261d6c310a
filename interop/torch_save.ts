/**
 * Writes state dicts as `torch.save` does (PyTorch ≥ 1.6 zip format), so that
 * `torch.load` reads p2p's files without any conversion step: a stored
 * (uncompressed) zip holding `archive/data.pkl` — a protocol-2 pickle of a
 * `collections.OrderedDict` whose tensors are
 * `torch._utils._rebuild_tensor_v2` calls on persistent-id storages —, the raw
 * little-endian storages `archive/data/<n>`, `archive/byteorder` and
 * `archive/version`. Storages are aligned to 64 bytes like PyTorch's writer.
 *
 * @module
 */
import type { StateDict, TorchDType, TorchTensor } from "./torch_load.ts";

/** PyTorch storage class of each element type. */
const STORAGE_CLASS: Record<TorchDType, string> = {
  float32: "FloatStorage",
  float64: "DoubleStorage",
  float16: "HalfStorage",
  bfloat16: "BFloat16Storage",
  int64: "LongStorage",
  int32: "IntStorage",
  int16: "ShortStorage",
  int8: "CharStorage",
  uint8: "ByteStorage",
  bool: "BoolStorage",
};

/** Appends pickle opcodes to a growing byte list. */
class PickleWriter {
  #parts: number[] = [];
  #text = new TextEncoder();

  /** Raw bytes. */
  bytes(...b: number[]): void {
    for (const x of b) this.#parts.push(x);
  }
  /** `GLOBAL module\nname\n`. */
  global(module: string, name: string): void {
    this.bytes(0x63, ...this.#text.encode(`${module}\n${name}\n`));
  }
  /** `BINUNICODE`: a str. */
  str(s: string): void {
    const b = this.#text.encode(s);
    this.bytes(0x58, ...le32(b.length), ...b);
  }
  /** The shortest of `BININT1`, `BININT2`, `BININT` for a non-negative int. */
  int(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new RangeError(`pickle writer: int out of range: ${n}`);
    }
    if (n < 0x100) this.bytes(0x4b, n);
    else if (n < 0x10000) this.bytes(0x4d, n & 0xff, n >> 8);
    else this.bytes(0x4a, ...le32(n));
  }
  /** `MARK` + items + `TUPLE` (or `EMPTY_TUPLE`). */
  tuple(items: number[]): void {
    if (items.length === 0) return this.bytes(0x29);
    this.bytes(0x28);
    for (const i of items) this.int(i);
    this.bytes(0x74);
  }
  /** The finished pickle. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function stridesOf(shape: number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i];
  }
  return out;
}

function numelOf(t: TorchTensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

/**
 * The protocol-2 pickle `torch.save(state_dict)` writes for `archive/data.pkl`:
 * storage `n` holds the `n`-th tensor of `stateDict`.
 */
export function pickleStateDict(stateDict: StateDict): Uint8Array {
  const w = new PickleWriter();
  w.bytes(0x80, 2); // PROTO 2
  w.global("collections", "OrderedDict");
  w.bytes(0x29, 0x52); // EMPTY_TUPLE, REDUCE
  w.bytes(0x28); // MARK for SETITEMS
  let n = 0;
  for (const [key, t] of stateDict) {
    w.str(key);
    w.global("torch._utils", "_rebuild_tensor_v2");
    w.bytes(0x28); // MARK (args)
    w.bytes(0x28); // MARK (persistent id)
    w.str("storage");
    w.global("torch", STORAGE_CLASS[t.dtype]);
    w.str(String(n++));
    w.str("cpu");
    w.int(numelOf(t));
    w.bytes(0x74, 0x51); // TUPLE, BINPERSID
    w.int(0); // storage offset
    w.tuple(t.shape);
    w.tuple(stridesOf(t.shape));
    w.bytes(0x89); // requires_grad False
    w.global("collections", "OrderedDict");
    w.bytes(0x29, 0x52); // backward hooks: OrderedDict()
    w.bytes(0x74, 0x52); // TUPLE, REDUCE
  }
  w.bytes(0x75, 0x2e); // SETITEMS, STOP
  return w.finish();
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** The CRC-32 (ISO 3309, as zip uses it) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** One file of a stored zip. */
export interface ZipFile {
  /** Path inside the archive. */
  name: string;
  /** Contents (stored, not compressed). */
  data: Uint8Array;
}

/**
 * A stored (uncompressed) zip of `files`, each file's data starting at a
 * multiple of `align` bytes (padding in a local extra field, as PyTorch's
 * `PyTorchStreamWriter` does). Sizes must stay below 4 GiB (no zip64).
 */
export function writeStoredZip(files: ZipFile[], align = 64): Uint8Array {
  const text = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = text.encode(f.name);
    const crc = crc32(f.data);
    const headerEnd = offset + 30 + name.length + 4;
    const pad = (align - headerEnd % align) % align;
    const extraLen = 4 + pad;
    if (offset + 30 + name.length + extraLen + f.data.length > 0xffffffff) {
      throw new RangeError(`zip writer: ${f.name} would pass 4 GiB`);
    }
    const local = new Uint8Array(30 + name.length + extraLen);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true); // version needed
    lv.setUint32(14, crc, true);
    lv.setUint32(18, f.data.length, true);
    lv.setUint32(22, f.data.length, true);
    lv.setUint16(26, name.length, true);
    lv.setUint16(28, extraLen, true);
    local.set(name, 30);
    lv.setUint16(30 + name.length, 0x4246, true); // "FB" padding field
    lv.setUint16(32 + name.length, pad, true);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, f.data.length, true);
    cv.setUint32(24, f.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    chunks.push(local, f.data);
    central.push(cd);
    offset += local.length + f.data.length;
  }
  const cdSize = central.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, files.length, true);
  ev.setUint16(10, files.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const c of [...chunks, ...central, end]) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

function storageBytes(t: TorchTensor, key: string): Uint8Array {
  const d = t.data;
  if (d.length !== numelOf(t)) {
    throw new RangeError(
      `${key}: ${d.length} values for shape [${t.shape}] (${
        numelOf(t)
      } expected)`,
    );
  }
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
}

/** Options of {@linkcode saveStateDict}. */
export interface SaveStateDictOptions {
  /** The archive's folder name (PyTorch uses the file's stem). @default "archive" */
  archiveName?: string;
}

/**
 * The bytes `torch.save(state_dict, path)` writes for `stateDict` (zip
 * format, little-endian). `torch.load` and {@linkcode loadStateDict} read it.
 *
 * @example
 * ```ts
 * import { loadStateDict, saveStateDict } from "@p2p/interop";
 * const sd = new Map([["w", { dtype: "float32" as const, shape: [2], data: Float32Array.of(1, 2) }]]);
 * const back = await loadStateDict(saveStateDict(sd));
 * console.log(back.get("w")?.data); // Float32Array(2) [ 1, 2 ]
 * ```
 */
export function saveStateDict(
  stateDict: StateDict,
  options: SaveStateDictOptions = {},
): Uint8Array {
  const root = options.archiveName ?? "archive";
  if (!/^[A-Za-z0-9_.-]+$/.test(root)) {
    throw new RangeError(
      `archiveName must be a plain name, received "${root}"`,
    );
  }
  const text = new TextEncoder();
  const files: ZipFile[] = [
    { name: `${root}/data.pkl`, data: pickleStateDict(stateDict) },
    { name: `${root}/byteorder`, data: text.encode("little") },
  ];
  let n = 0;
  for (const [key, t] of stateDict) {
    files.push({ name: `${root}/data/${n++}`, data: storageBytes(t, key) });
  }
  files.push({ name: `${root}/version`, data: text.encode("3\n") });
  return writeStoredZip(files);
}
