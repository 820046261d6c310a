/**
 * A minimal zip reader: the central directory (with zip64 sizes and offsets),
 * stored entries and deflated ones (`node:zlib`, never past the size an entry
 * declares nor past a cap).
 * Enough for PyTorch's checkpoint container, which stores its entries
 * uncompressed.
 *
 * @module
 */
import { inflateRawSync } from "node:zlib";

/** One file of a zip archive. */
export interface ZipEntry {
  /** Path inside the archive. */
  name: string;
  /** Compression method: 0 stored, 8 deflate. */
  method: number;
  /** Size of the stored (possibly compressed) data in bytes. */
  compressedSize: number;
  /** Size of the file in bytes. */
  size: number;
  /** Offset of the entry's local header in the archive. */
  headerOffset: number;
}

/** A zip archive opened in memory. */
export interface ZipArchive {
  /** Entries by name, in central-directory order. */
  entries: Map<string, ZipEntry>;
  /**
   * The content of `name`. Stored entries are returned as a view of the
   * archive's bytes (no copy); deflated ones are inflated.
   */
  read(name: string, options?: ZipReadOptions): Promise<Uint8Array>;
}

/** Options of {@linkcode ZipArchive.read}. */
export interface ZipReadOptions {
  /** Most bytes a deflated entry may inflate to; more is refused before or while inflating. @default MAX_INFLATED_BYTES */
  maxBytes?: number;
}

/** The default cap on what one deflated entry may inflate to: 256 MiB. */
export const MAX_INFLATED_BYTES: number = 256 * 2 ** 20;

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** Whether `bytes` starts like a zip archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 &&
    new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) ===
      LOCAL;
}

function u64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`zip: ${what} ${v} is too large`);
  }
  return Number(v);
}

/**
 * Opens a zip archive held in memory.
 *
 * @example
 * ```ts
 * import { openZip } from "@p2p/interop";
 * // An empty archive is just an end-of-central-directory record.
 * const empty = new Uint8Array(22);
 * new DataView(empty.buffer).setUint32(0, 0x06054b50, true);
 * console.log(openZip(empty).entries.size); // 0
 * ```
 */
export function openZip(bytes: Uint8Array, label = "zip archive"): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record is in the last 22 + 65535 bytes.
  let eocd = -1;
  for (
    let i = bytes.length - 22;
    i >= Math.max(0, bytes.length - 22 - 65535);
    i--
  ) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new Error(
      `${label}: not a zip archive (no end-of-central-directory record in ${bytes.length} bytes)`,
    );
  }
  let count = view.getUint16(eocd + 10, true);
  let cdOffset = view.getUint32(eocd + 16, true);
  if (
    (count === 0xffff || cdOffset === 0xffffffff) && eocd >= 20 &&
    view.getUint32(eocd - 20, true) === EOCD64_LOCATOR
  ) {
    const at = u64(view, eocd - 20 + 8, "zip64 record offset");
    if (view.getUint32(at, true) !== EOCD64) {
      throw new Error(`${label}: broken zip64 end-of-central-directory record`);
    }
    count = u64(view, at + 32, "entry count");
    cdOffset = u64(view, at + 48, "central directory offset");
  }
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder();
  let p = cdOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) {
      throw new Error(
        `${label}: broken central directory at byte ${p} (entry ${n} of ${count})`,
      );
    }
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    let headerOffset = view.getUint32(p + 42, true);
    const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field: the 0xffffffff fields, in order, as 64-bit values.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(view, q, "entry size");
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(view, q, "entry size");
          q += 8;
        }
        if (headerOffset === 0xffffffff) {
          headerOffset = u64(view, q, "entry offset");
        }
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, headerOffset });
    p = extraEnd + commentLen;
  }

  function readNow(name: string, options: ZipReadOptions): Uint8Array {
    const entry = entries.get(name);
    if (!entry) {
      throw new Error(
        `${label}: no entry "${name}" (entries: ${
          [...entries.keys()].slice(0, 20).join(", ")
        }${entries.size > 20 ? ", …" : ""})`,
      );
    }
    const h = entry.headerOffset;
    if (h + 30 > bytes.length || view.getUint32(h, true) !== LOCAL) {
      throw new Error(
        `${label}: broken local header of "${name}" at byte ${h}`,
      );
    }
    const start = h + 30 + view.getUint16(h + 26, true) +
      view.getUint16(h + 28, true);
    const end = start + entry.compressedSize;
    if (end > bytes.length) {
      throw new Error(
        `${label}: entry "${name}" runs past the end of the archive (truncated file?)`,
      );
    }
    const data = bytes.subarray(start, end);
    if (entry.method === 0) {
      if (entry.size !== entry.compressedSize) {
        throw new Error(
          `${label}: stored entry "${name}" declares ${entry.size} bytes but holds ${entry.compressedSize}`,
        );
      }
      return data;
    }
    if (entry.method !== 8) {
      throw new Error(
        `${label}: entry "${name}" uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`,
      );
    }
    return inflateEntry(data, entry, options.maxBytes ?? MAX_INFLATED_BYTES);
  }

  function inflateEntry(
    data: Uint8Array,
    entry: ZipEntry,
    maxBytes: number,
  ): Uint8Array {
    const { name, size } = entry;
    if (size > maxBytes) {
      throw new RangeError(
        `${label}: entry "${name}" declares ${size} bytes once inflated, above the limit of ${maxBytes}; refused before inflating`,
      );
    }
    let out: Uint8Array;
    try {
      // At most one byte more than declared: enough to catch a lying size.
      out = inflateRawSync(data, { maxOutputLength: size + 1 });
    } catch (e) {
      const msg = String((e as Error)?.message ?? e);
      throw new Error(
        /BUFFER_TOO_LARGE|larger than/i.test(msg)
          ? `${label}: entry "${name}" inflates to more than the ${size} bytes it declares; refused`
          : `${label}: entry "${name}" does not inflate (${msg})`,
      );
    }
    if (out.length !== size) {
      throw new Error(
        `${label}: entry "${name}" inflated to ${out.length} bytes, expected ${size}`,
      );
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  const read = (
    name: string,
    options: ZipReadOptions = {},
  ): Promise<Uint8Array> =>
    Promise.resolve().then(() => readNow(name, options));
  return { entries, read };
}
