/**
 * Reads files written by `torch.save` without Python: the zip container
 * (PyTorch ≥ 1.6: `<name>/data.pkl`, `<name>/data/<key>` raw storages,
 * `<name>/byteorder`) and the legacy format (a sequence of pickles followed
 * by the raw storages). Tensors come out contiguous, in row-major order.
 *
 * @module
 */
import { isZip, openZip } from "./zip.ts";
import { PyGlobal, unpickle } from "./pickle.ts";

/** Element types of PyTorch tensors that this reader understands. */
export type TorchDType =
  | "float32"
  | "float64"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

/**
 * The values of a tensor, row-major: float16 and bfloat16 as their raw
 * 16-bit patterns, bool as 0/1 bytes.
 */
export type TorchData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array;

/** A tensor read from a PyTorch file. */
export interface TorchTensor {
  /** Element type. */
  dtype: TorchDType;
  /** Shape (PyTorch order, e.g. `[out, in, kh, kw]` for a conv weight). */
  shape: number[];
  /** Values, contiguous and row-major. */
  data: TorchData;
}

/** A state dict: parameter and buffer names to tensors, in file order. */
export type StateDict = Map<string, TorchTensor>;

const STORAGE_TYPES: Record<string, [TorchDType, number]> = {
  FloatStorage: ["float32", 4],
  DoubleStorage: ["float64", 8],
  HalfStorage: ["float16", 2],
  BFloat16Storage: ["bfloat16", 2],
  LongStorage: ["int64", 8],
  IntStorage: ["int32", 4],
  ShortStorage: ["int16", 2],
  CharStorage: ["int8", 1],
  ByteStorage: ["uint8", 1],
  BoolStorage: ["bool", 1],
};

interface StorageRef {
  dtype: TorchDType;
  size: number;
  key: string;
  /** Element offset into the root storage (legacy views). */
  viewOffset: number;
}

class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

function makeArray(dtype: TorchDType, buf: ArrayBuffer): TorchData {
  switch (dtype) {
    case "float32":
      return new Float32Array(buf);
    case "float64":
      return new Float64Array(buf);
    case "float16":
    case "bfloat16":
      return new Uint16Array(buf);
    case "int64":
      return new BigInt64Array(buf);
    case "int32":
      return new Int32Array(buf);
    case "int16":
      return new Int16Array(buf);
    case "int8":
      return new Int8Array(buf);
    case "uint8":
    case "bool":
      return new Uint8Array(buf);
  }
}

function elementSize(dtype: TorchDType): number {
  for (const [d, s] of Object.values(STORAGE_TYPES)) if (d === dtype) return s;
  throw new RangeError(`unknown dtype ${dtype}`);
}

function asIntList(v: unknown, what: string): number[] {
  if (
    !Array.isArray(v) || v.length > 64 ||
    !v.every((x) => Number.isSafeInteger(x) && (x as number) >= 0)
  ) {
    throw new TypeError(
      `${what} must be a tuple of at most 64 non-negative integers, received ${
        describeValue(v)
      }`,
    );
  }
  return v as number[];
}

/** A short, safe description of an unpickled value for messages. */
function describeValue(v: unknown): string {
  if (Array.isArray(v)) {
    return `[${
      v.slice(0, 8).map((x) =>
        typeof x === "object" && x !== null ? typeof x : String(x)
      ).join(", ")
    }${v.length > 8 ? `, … (${v.length} items)` : ""}]`;
  }
  return typeof v === "object" && v !== null ? typeof v : String(v);
}

/**
 * Checks a tensor view against its storage before anything is allocated:
 * as many strides as dimensions, an offset inside the storage, a last
 * element inside it, and no more elements than the storage holds (a
 * stride-0 `expand` view could otherwise claim billions). Returns the
 * element count.
 */
function checkView(
  ref: TensorRef,
  bytes: Uint8Array,
  es: number,
  label: string,
): number {
  const { storage, shape, stride } = ref;
  const what =
    `${label}: tensor of shape [${shape}] (stride [${stride}], offset ${ref.offset}) on storage "${storage.key}"`;
  const elements = Math.floor(bytes.length / es);
  if (stride.length !== shape.length) {
    throw new Error(
      `${what}: ${stride.length} strides for ${shape.length} dimensions`,
    );
  }
  const base = storage.viewOffset + ref.offset;
  if (!Number.isSafeInteger(base) || base < 0) {
    throw new Error(`${what}: offset must be a non-negative integer`);
  }
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > elements && d !== 0 && !shape.includes(0)) {
      throw new Error(
        `${what}: needs more elements than the storage holds (${elements}); a view larger than its storage (e.g. expand) is not a state-dict tensor`,
      );
    }
  }
  if (n === 0) return 0;
  let last = base;
  shape.forEach((d, i) => (last += (d - 1) * stride[i]));
  if (last >= elements) {
    throw new Error(
      `${what}: reaches element ${last}, past the end of the storage (${elements} elements)`,
    );
  }
  return n;
}

function materialize(
  ref: TensorRef,
  storages: Map<string, Uint8Array>,
  label: string,
  budget: { left: number },
): TorchTensor {
  const { storage } = ref;
  const bytes = storages.get(storage.key);
  if (!bytes) {
    throw new Error(`${label}: storage "${storage.key}" is missing`);
  }
  const es = elementSize(storage.dtype);
  const n = checkView(ref, bytes, es, label);
  if (n * es > budget.left) {
    throw new Error(
      `${label}: the tensors would need more memory than twice the file's storages hold; tensors sharing a storage that many times are not a state dict`,
    );
  }
  budget.left -= n * es;
  const base = storage.viewOffset + ref.offset;
  // Row-major strides of the shape: when they match, copy one block.
  const contiguous = ref.shape.every((d, i) =>
    d === 1 ||
    ref.stride[i] === ref.shape.slice(i + 1).reduce((a, b) => a * b, 1)
  );
  const out = new Uint8Array(n * es);
  if (contiguous) {
    out.set(bytes.subarray(base * es, (base + n) * es));
  } else {
    const idx = new Array(ref.shape.length).fill(0);
    for (let k = 0; k < n; k++) {
      let src = base;
      for (let i = 0; i < idx.length; i++) src += idx[i] * ref.stride[i];
      out.set(bytes.subarray(src * es, (src + 1) * es), k * es);
      for (let i = idx.length - 1; i >= 0; i--) {
        if (++idx[i] < ref.shape[i]) break;
        idx[i] = 0;
      }
    }
  }
  return {
    dtype: storage.dtype,
    shape: ref.shape.slice(),
    data: makeArray(storage.dtype, out.buffer),
  };
}

function resolveGlobal(label: string) {
  return (module: string, name: string): unknown => {
    const full = `${module}.${name}`;
    if (module === "torch" && name in STORAGE_TYPES) {
      return new PyGlobal(module, name);
    }
    switch (full) {
      case "collections.OrderedDict":
        return (items?: [unknown, unknown][]) => new Map(items ?? []);
      case "torch._utils._rebuild_tensor":
      case "torch._utils._rebuild_tensor_v2":
        return (
          storage: unknown,
          offset: unknown,
          size: unknown,
          stride: unknown,
        ) => {
          if (!(storage && typeof storage === "object" && "key" in storage)) {
            throw new Error(`${label}: ${full} without a storage`);
          }
          try {
            if (!Number.isSafeInteger(offset) || (offset as number) < 0) {
              throw new Error(
                `storage offset must be a non-negative integer, received ${
                  describeValue(offset)
                }`,
              );
            }
            return new TensorRef(
              storage as StorageRef,
              offset as number,
              asIntList(size, "tensor size"),
              asIntList(stride, "tensor stride"),
            );
          } catch (e) {
            throw new Error(`${label}: ${full}: ${(e as Error).message}`);
          }
        };
      case "torch._utils._rebuild_parameter":
      case "torch._utils._rebuild_parameter_with_state":
        return (data: unknown) => data;
      case "torch._tensor._rebuild_from_type_v2":
        return (fn: unknown, _type: unknown, args: unknown) =>
          (fn as (...a: unknown[]) => unknown)(...(args as unknown[]));
      case "torch.nn.parameter.Parameter":
        return (data: unknown) => data;
      case "builtins.set":
        return (items?: unknown[]) => new Set(items ?? []);
    }
    throw new Error(
      `${label}: the pickle refers to ${full}, which is not part of a state dict (this reader does not run code); save the model with torch.save(net.state_dict(), path)`,
    );
  };
}

function storageLoader(label: string, legacy: boolean) {
  return (pid: unknown): StorageRef => {
    if (!Array.isArray(pid) || pid[0] !== "storage") {
      throw new Error(
        `${label}: unsupported persistent id ${
          JSON.stringify(pid, (_, v) => typeof v === "bigint" ? String(v) : v)
        } (expected a storage)`,
      );
    }
    const type = pid[1];
    if (!(type instanceof PyGlobal) || !(type.name in STORAGE_TYPES)) {
      throw new Error(`${label}: unsupported storage type ${String(type)}`);
    }
    const [dtype] = STORAGE_TYPES[type.name];
    const ref: StorageRef = {
      dtype,
      key: String(pid[2]),
      size: Number(pid[4]),
      viewOffset: 0,
    };
    if (legacy && Array.isArray(pid[5])) ref.viewOffset = Number(pid[5][1]);
    return ref;
  };
}

function replaceRefs(
  v: unknown,
  storages: Map<string, Uint8Array>,
  label: string,
): unknown {
  checkStructure(v, label);
  let held = 0;
  for (const b of storages.values()) held += b.length;
  const budget = { left: 2 * held };
  const walk = (x: unknown): unknown => {
    if (x instanceof TensorRef) return materialize(x, storages, label, budget);
    if (x instanceof Map) {
      for (const [k, y] of x) x.set(k, walk(y));
      return x;
    }
    if (Array.isArray(x)) return x.map(walk);
    return x;
  };
  return walk(v);
}

/** Deepest nesting of lists, tuples and dicts a torch file may hold. */
export const MAX_PICKLE_DEPTH = 1000;

/**
 * Refuses, without recursion, an unpickled value nested deeper than
 * {@linkcode MAX_PICKLE_DEPTH} or one that contains itself (both possible in
 * a crafted pickle; neither in a state dict), so that walking it cannot
 * overflow the stack or loop forever.
 */
function checkStructure(root: unknown, label: string): void {
  const onPath = new Set<unknown>();
  const done = new Set<unknown>();
  const children = (x: unknown): unknown[] =>
    x instanceof Map
      ? [...x.values()]
      : Array.isArray(x)
      ? x
      : x instanceof Set
      ? [...x]
      : [];
  const stack: { node: unknown; next: number; kids: unknown[] }[] = [];
  const enter = (node: unknown): void => {
    if (stack.length >= MAX_PICKLE_DEPTH) {
      throw new Error(
        `${label}: the pickle nests lists/dicts more than ${MAX_PICKLE_DEPTH} levels deep; a state dict needs a few`,
      );
    }
    onPath.add(node);
    stack.push({ node, next: 0, kids: children(node) });
  };
  const container = (x: unknown): boolean =>
    x instanceof Map || Array.isArray(x) || x instanceof Set;
  if (!container(root)) return;
  enter(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    if (top.next >= top.kids.length) {
      onPath.delete(top.node);
      done.add(top.node);
      stack.pop();
      continue;
    }
    const kid = top.kids[top.next++];
    if (!container(kid) || done.has(kid)) continue;
    if (onPath.has(kid)) {
      throw new Error(
        `${label}: the pickle holds a list or dict that contains itself (a self-reference); a state dict never does`,
      );
    }
    enter(kid);
  }
}

/** Most bytes a torch file's `data.pkl` may inflate to (a state dict's is a few KiB). */
export const MAX_PICKLE_BYTES: number = 64 * 2 ** 20;

async function loadZip(bytes: Uint8Array, label: string): Promise<unknown> {
  const zip = openZip(bytes, label);
  const pkl = [...zip.entries.keys()].find((n) =>
    n === "data.pkl" || /^[^/]+\/data\.pkl$/.test(n)
  );
  if (!pkl) {
    throw new Error(
      `${label}: zip archive without data.pkl; is it a torch.save file? (entries: ${
        [...zip.entries.keys()].slice(0, 10).join(", ")
      })`,
    );
  }
  const prefix = pkl.slice(0, -"data.pkl".length);
  const order = zip.entries.get(`${prefix}byteorder`);
  if (order) {
    const text = new TextDecoder().decode(await zip.read(order.name)).trim();
    if (text !== "little") {
      throw new Error(
        `${label}: byteorder is "${text}"; only little-endian files are supported`,
      );
    }
  }
  const storages = new Map<string, Uint8Array>();
  for (const name of zip.entries.keys()) {
    if (name.startsWith(`${prefix}data/`)) {
      storages.set(name.slice(prefix.length + 5), await zip.read(name));
    }
  }
  const { value } = unpickle(
    await zip.read(pkl, { maxBytes: MAX_PICKLE_BYTES }),
    {
      label: `${label}: ${pkl}`,
      resolve: resolveGlobal(label),
      persistentLoad: storageLoader(label, false),
    },
  );
  return replaceRefs(value, storages, label);
}

function loadLegacy(bytes: Uint8Array, label: string): unknown {
  const plain = { label, resolve: resolveGlobal(label) };
  let magic;
  try {
    magic = unpickle(bytes, plain);
  } catch {
    magic = { value: null, end: 0 };
  }
  if (magic.value !== 0x1950a86a20f9469cfc6cn) {
    throw new Error(
      `${label}: neither a zip archive nor a legacy torch.save file (magic number not found)`,
    );
  }
  const version = unpickle(bytes, { ...plain, offset: magic.end });
  if (version.value !== 1001) {
    throw new Error(
      `${label}: legacy protocol version ${version.value}, expected 1001`,
    );
  }
  const sys = unpickle(bytes, { ...plain, offset: version.end });
  const info = sys.value as Map<string, unknown>;
  if (info instanceof Map && info.get("little_endian") === false) {
    throw new Error(`${label}: big-endian files are not supported`);
  }
  const main = unpickle(bytes, {
    ...plain,
    offset: sys.end,
    persistentLoad: storageLoader(label, true),
  });
  const keys = unpickle(bytes, { ...plain, offset: main.end });
  if (!Array.isArray(keys.value)) {
    throw new Error(`${label}: legacy storage key list missing`);
  }
  // Collect storage dtypes from the tensors that reference them.
  const dtypes = new Map<string, TorchDType>();
  checkStructure(main.value, label);
  const visit = (v: unknown): void => {
    if (v instanceof TensorRef) dtypes.set(v.storage.key, v.storage.dtype);
    else if (v instanceof Map) v.forEach(visit);
    else if (Array.isArray(v)) v.forEach(visit);
  };
  visit(main.value);
  const storages = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = keys.end;
  for (const k of keys.value as unknown[]) {
    const key = String(k);
    if (p + 8 > bytes.length) {
      throw new Error(`${label}: truncated before storage "${key}"`);
    }
    const numel = Number(view.getBigInt64(p, true));
    p += 8;
    if (!Number.isSafeInteger(numel) || numel < 0) {
      throw new Error(
        `${label}: storage "${key}" declares ${numel} elements`,
      );
    }
    const dtype = dtypes.get(key);
    if (!dtype) throw new Error(`${label}: storage "${key}" has no tensor`);
    const n = numel * elementSize(dtype);
    if (p + n > bytes.length) {
      throw new Error(`${label}: storage "${key}" runs past the end`);
    }
    storages.set(key, bytes.subarray(p, p + n));
    p += n;
  }
  return replaceRefs(main.value, storages, label);
}

/**
 * Reads any object saved by `torch.save` made of dicts, lists, tuples,
 * numbers, strings and tensors (tensors become {@linkcode TorchTensor}).
 */
export function loadTorch(
  bytes: Uint8Array,
  label = "torch file",
): Promise<unknown> {
  const load = isZip(bytes)
    ? loadZip(bytes, label)
    : Promise.resolve().then(() => loadLegacy(bytes, label));
  return load.catch((e) => {
    const msg = String((e as Error)?.message ?? e);
    if (msg.startsWith(label)) throw e;
    // A JavaScript error from deep inside (a crafted structure): name the file.
    throw new Error(`${label}: malformed torch file (${msg})`);
  });
}

function isTensor(v: unknown): v is TorchTensor {
  return !!v && typeof v === "object" && "dtype" in v && "shape" in v &&
    "data" in v;
}

/**
 * Reads a `state_dict` saved by `torch.save`. Accepts a bare state dict or
 * one wrapped as `{"state_dict": …}`; strips the `module.` prefix that
 * `DataParallel`/`DistributedDataParallel` add.
 *
 * @example
 * ```ts ignore
 * import { loadStateDict } from "@p2p/interop";
 * const sd = await loadStateDict(await Deno.readFile("latest_net_G.pth"));
 * console.log(sd.get("model.model.0.weight")?.shape); // [64, 3, 4, 4]
 * ```
 */
export async function loadStateDict(
  bytes: Uint8Array,
  label = "state dict",
): Promise<StateDict> {
  return toStateDict(await loadTorch(bytes, label), label);
}

/**
 * Checks that an unpickled value is a state dict and returns it as a
 * {@linkcode StateDict}: unwraps `{"state_dict": …}` and strips a `module.`
 * prefix shared by every key.
 */
export function toStateDict(value: unknown, label = "state dict"): StateDict {
  if (value instanceof Map && value.get("state_dict") instanceof Map) {
    value = value.get("state_dict");
  }
  if (!(value instanceof Map)) {
    throw new TypeError(
      `${label}: expected a state dict (an OrderedDict of tensors), found ${
        Array.isArray(value) ? "a list/tuple" : typeof value
      }`,
    );
  }
  const out: StateDict = new Map();
  const bad: string[] = [];
  const keys = [...value.keys()].map(String);
  const strip = keys.length > 0 && keys.every((k) => k.startsWith("module."));
  for (const [k, v] of value) {
    if (!isTensor(v)) {
      bad.push(String(k));
      continue;
    }
    out.set(strip ? String(k).slice(7) : String(k), v);
  }
  if (bad.length) {
    throw new TypeError(
      `${label}: entries that are not tensors: ${bad.join(", ")}`,
    );
  }
  return out;
}

/** Converts a tensor's values to float32 (float16/bfloat16 decoded). */
export function toFloat32(t: TorchTensor): Float32Array {
  const d = t.data;
  if (t.dtype === "float32") return d as Float32Array;
  const out = new Float32Array(d.length);
  if (t.dtype === "float16") {
    for (let i = 0; i < d.length; i++) out[i] = halfToFloat(d[i] as number);
  } else if (t.dtype === "bfloat16") {
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < d.length; i++) u[i] = (d[i] as number) << 16;
  } else if (t.dtype === "int64") {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  } else {
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
