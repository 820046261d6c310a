/**
 * Generators of small hostile files for the tests and `bench/hostile.ts`:
 * PNG and JPEG headers that claim huge sizes, PNGs whose image data is a
 * deflate bomb, `.pth` zips with crafted pickles (stride-0 views, deep or
 * self-referencing structures, lying entry sizes, deflate bombs). Each is a
 * few KiB to a few MiB on disk.
 *
 * @module
 */
import {
  constants as zlibConstants,
  deflateRawSync,
  deflateSync,
} from "node:zlib";
import { crc32 } from "../data/png.ts";

const enc = new TextEncoder();

/** Concatenates byte arrays. */
export function concat(parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) =>
    p instanceof Uint8Array ? p : Uint8Array.from(p)
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) {
    out.set(a, o);
    o += a.length;
  }
  return out;
}

function be32(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

function le16(v: number): number[] {
  return [v & 255, (v >>> 8) & 255];
}

function le32(v: number): number[] {
  return [v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255];
}

/** One PNG chunk with its CRC; `length` overrides the declared length. */
export function pngChunk(
  type: string,
  body: Uint8Array,
  length: number = body.length,
): Uint8Array {
  const typed = concat([enc.encode(type), body]);
  return concat([be32(length), typed, be32(crc32(typed))]);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function ihdr(width: number, height: number, color = 0): Uint8Array {
  return pngChunk(
    "IHDR",
    Uint8Array.from([...be32(width), ...be32(height), 8, color, 0, 0, 0]),
  );
}

/**
 * An 8-bit grey PNG whose IHDR claims `width`×`height`, with only `rows`
 * rows of (zero) image data: tiny on disk, huge if decoded blindly.
 */
export function hugePng(width: number, height: number, rows = 1): Uint8Array {
  const raw = new Uint8Array(Math.min(rows, height) * (width + 1));
  return concat([
    PNG_SIGNATURE,
    ihdr(width, height),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** A small PNG (`width`×`height` grey) whose IDAT inflates to `inflated` bytes: a deflate bomb. */
export function idatBombPng(
  width: number,
  height: number,
  inflated: number,
): Uint8Array {
  return concat([
    PNG_SIGNATURE,
    ihdr(width, height),
    pngChunk("IDAT", deflateSync(new Uint8Array(inflated))),
    pngChunk("IEND", new Uint8Array()),
  ]);
}

/** A PNG whose second chunk declares `length` bytes (e.g. 0x7fffffff) it does not have. */
export function hugeChunkPng(length: number): Uint8Array {
  return concat([
    PNG_SIGNATURE,
    ihdr(4, 4),
    pngChunk("IDAT", new Uint8Array(16), length),
  ]);
}

/** A JPEG of markers only: SOI, a baseline SOF claiming `width`×`height`, EOI. */
export function hugeJpeg(width: number, height: number): Uint8Array {
  const app0 = [
    0xff,
    0xe0,
    ...[0, 16],
    ...enc.encode("JFIF\0"),
    1,
    1,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
  ];
  const sof = [
    0xff,
    0xc0,
    0,
    17,
    8,
    (height >> 8) & 255,
    height & 255,
    (width >> 8) & 255,
    width & 255,
    3,
    1,
    0x22,
    0,
    2,
    0x11,
    1,
    3,
    0x11,
    1,
  ];
  return concat([[0xff, 0xd8], app0, sof, [0xff, 0xd9]]);
}

// ---------------------------------------------------------------- zip

/** A file for {@linkcode zipArchive}. */
export interface ZipFile {
  /** Path inside the archive. */
  name: string;
  /** Content. */
  data: Uint8Array;
  /** Deflate it. @default false */
  deflate?: boolean;
  /** Size to declare instead of the real one (a lying header). */
  declaredSize?: number;
}

/** A zip archive (no zip64) of `files`, as `torch.save` writes one. */
export function zipArchive(files: ZipFile[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const f of files) {
    const name = enc.encode(f.name);
    const stored = f.deflate ? deflateRawSync(f.data) : f.data;
    const size = f.declaredSize ?? f.data.length;
    const crc = crc32(f.data);
    const method = f.deflate ? 8 : 0;
    const common = [
      ...le16(20),
      ...le16(0),
      ...le16(method),
      ...le16(0),
      ...le16(0),
      ...le32(crc),
      ...le32(stored.length),
      ...le32(size),
      ...le16(name.length),
    ];
    const local = concat([le32(0x04034b50), common, le16(0), name, stored]);
    centrals.push(
      concat([
        le32(0x02014b50),
        le16(20),
        common,
        le16(0),
        le16(0),
        le16(0),
        le16(0),
        le32(0),
        le32(offset),
        name,
      ]),
    );
    locals.push(local);
    offset += local.length;
  }
  const cd = concat(centrals);
  const eocd = concat([
    le32(0x06054b50),
    le16(0),
    le16(0),
    le16(files.length),
    le16(files.length),
    le32(cd.length),
    le32(offset),
    le16(0),
  ]);
  return concat([...locals, cd, eocd]);
}

// ---------------------------------------------------------------- pickle

/** Pickle opcodes for hand-made pickles. */
export const op = {
  /** A text global `module.name`. */
  global: (module: string, name: string): Uint8Array =>
    enc.encode(`c${module}\n${name}\n`),
  /** A UTF-8 string. */
  str: (s: string): Uint8Array => {
    const b = enc.encode(s);
    return concat([[0x58], le32(b.length), b]);
  },
  /** A signed 32-bit integer. */
  int: (v: number): Uint8Array => concat([[0x4a], le32(v >>> 0)]),
  /** A tuple of the values between this and {@linkcode op.tuple}. */
  mark: Uint8Array.of(0x28),
  /** Closes a {@linkcode op.mark} as a tuple. */
  tuple: Uint8Array.of(0x74),
  /** Calls the callable below the argument tuple. */
  reduce: Uint8Array.of(0x52),
  /** Persistent id from the tuple on the stack. */
  binpersid: Uint8Array.of(0x51),
  /** Sets a dict item. */
  setitem: Uint8Array.of(0x73),
  /** `False`. */
  false: Uint8Array.of(0x89),
  /** Protocol 2 header. */
  proto: Uint8Array.of(0x80, 2),
  /** End of the pickle. */
  stop: Uint8Array.of(0x2e),
};

function tupleOf(values: number[]): Uint8Array {
  return concat([op.mark, ...values.map(op.int), op.tuple]);
}

/** Options of {@linkcode stateDictPickle}. */
export interface TensorSpec {
  /** Key in the state dict. */
  key: string;
  /** Storage key (its file `archive/data/<storage>`). */
  storage: string;
  /** Elements of the storage. */
  storageSize: number;
  /** Shape of the view. */
  shape: number[];
  /** Strides of the view. */
  stride: number[];
  /** Element offset of the view. @default 0 */
  offset?: number;
}

/** The pickle of an `OrderedDict` of float32 tensors, as `torch.save` writes it. */
export function stateDictPickle(tensors: TensorSpec[]): Uint8Array {
  const parts: Uint8Array[] = [
    op.proto,
    op.global("collections", "OrderedDict"),
    Uint8Array.of(0x29), // EMPTY_TUPLE
    op.reduce,
  ];
  for (const t of tensors) {
    parts.push(
      op.str(t.key),
      op.global("torch._utils", "_rebuild_tensor_v2"),
      op.mark,
      op.mark,
      op.str("storage"),
      op.global("torch", "FloatStorage"),
      op.str(t.storage),
      op.str("cpu"),
      op.int(t.storageSize),
      op.tuple,
      op.binpersid,
      op.int(t.offset ?? 0),
      tupleOf(t.shape),
      tupleOf(t.stride),
      op.false,
      op.global("collections", "OrderedDict"),
      Uint8Array.of(0x29),
      op.reduce,
      op.tuple,
      op.reduce,
      op.setitem,
    );
  }
  parts.push(op.stop);
  return concat(parts);
}

/** A `.pth` zip of a state-dict pickle and float32 storages (given as element counts). */
export function pthZip(
  pickle: Uint8Array,
  storages: Record<string, number>,
  options: { deflatePickle?: boolean; declaredPickleSize?: number } = {},
): Uint8Array {
  return zipArchive([
    {
      name: "archive/data.pkl",
      data: pickle,
      deflate: options.deflatePickle,
      declaredSize: options.declaredPickleSize,
    },
    { name: "archive/byteorder", data: enc.encode("little") },
    ...Object.entries(storages).map(([k, n]) => ({
      name: `archive/data/${k}`,
      data: new Uint8Array(n * 4),
    })),
  ]);
}

/** `torch.zeros(1).expand(n, n)` saved in a state dict: one float, a view of n² elements (stride 0). */
export function expandPth(n = 30000): Uint8Array {
  return pthZip(
    stateDictPickle([{
      key: "weight",
      storage: "0",
      storageSize: 1,
      shape: [n, n],
      stride: [0, 0],
    }]),
    { "0": 1 },
  );
}

/**
 * A raw deflate stream that inflates to `mib` MiB of zeros, built from one
 * compressed MiB repeated (about 1 KiB each), so it is never held inflated.
 */
export function deflateBomb(mib: number): Uint8Array {
  const segment = deflateRawSync(new Uint8Array(2 ** 20), {
    finishFlush: zlibConstants.Z_SYNC_FLUSH,
  });
  const out = new Uint8Array(segment.length * mib + 2);
  for (let i = 0; i < mib; i++) out.set(segment, i * segment.length);
  out.set([0x03, 0x00], segment.length * mib); // a final empty block
  return out;
}

/**
 * A `.pth` whose `data.pkl` is a deflate bomb: `mib` MiB (2 GiB by default)
 * from about a thousandth of that on disk. `declaredSize` makes the zip
 * header lie about it.
 */
export function pickleBombPth(
  mib = 2048,
  declaredSize: number = Math.min(mib * 2 ** 20, 2 ** 32 - 1),
): Uint8Array {
  const name = enc.encode("archive/data.pkl");
  const data = deflateBomb(mib);
  return zipWithRawEntry(name, data, declaredSize);
}

function zipWithRawEntry(
  name: Uint8Array,
  deflated: Uint8Array,
  size: number,
): Uint8Array {
  const common = [
    ...le16(20),
    ...le16(0),
    ...le16(8),
    ...le16(0),
    ...le16(0),
    ...le32(0),
    ...le32(deflated.length),
    ...le32(size),
    ...le16(name.length),
  ];
  const local = concat([le32(0x04034b50), common, le16(0), name, deflated]);
  const central = concat([
    le32(0x02014b50),
    le16(20),
    common,
    le16(0),
    le16(0),
    le16(0),
    le16(0),
    le32(0),
    le32(0),
    name,
  ]);
  return concat([
    local,
    central,
    le32(0x06054b50),
    le16(0),
    le16(0),
    le16(1),
    le16(1),
    le32(central.length),
    le32(local.length),
    le16(0),
  ]);
}

/** A `.pth` whose pickle nests `depth` lists (200,000 by default). */
export function deepPicklePth(depth = 200_000): Uint8Array {
  const pickle = new Uint8Array(2 + 2 * depth);
  pickle.set(op.proto);
  pickle.fill(0x5d, 2, 2 + depth); // EMPTY_LIST × depth
  pickle.fill(0x61, 2 + depth, 1 + 2 * depth); // APPEND × (depth − 1)
  pickle[1 + 2 * depth] = 0x2e; // STOP
  return pthZip(pickle, {});
}

/** A `.pth` whose pickle is a list that contains itself. */
export function selfReferencePth(): Uint8Array {
  // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP
  return pthZip(
    concat([op.proto, [0x5d, 0x71, 0, 0x68, 0, 0x61], op.stop]),
    {},
  );
}
