/**
 * A reader for the subset of Python's pickle format (protocols 0–5) that
 * PyTorch state dicts use. It never runs code: globals resolve only through
 * the `resolve` callback, and anything it does not know is an error naming
 * the global.
 *
 * Python values map to JavaScript as: `None` → `null`, bool → boolean,
 * int → number (bigint beyond 2^53), float → number, str → string,
 * bytes → Uint8Array, tuple and list → array, dict → `Map`, set → `Set`.
 *
 * @module
 */

/** A Python global (`module.name`) referenced by a pickle. */
export class PyGlobal {
  /** Creates a reference to `module.name`. */
  constructor(
    /** The module, e.g. `collections`. */
    readonly module: string,
    /** The name inside the module, e.g. `OrderedDict`. */
    readonly name: string,
  ) {}
  /** `module.name`. */
  toString(): string {
    return `${this.module}.${this.name}`;
  }
}

/** Options of {@linkcode unpickle}. */
export interface UnpickleOptions {
  /**
   * Called for `GLOBAL`/`STACK_GLOBAL`; returns the value that stands for the
   * global (often a function used by `REDUCE`). @default a {@linkcode PyGlobal}
   */
  resolve?: (module: string, name: string) => unknown;
  /**
   * Called for `REDUCE` and `NEWOBJ`: `callable(...args)`. A JavaScript
   * function is called directly; anything else must be handled here.
   * @default calls functions, builds `Map` for `collections.OrderedDict`, else throws
   */
  reduce?: (callable: unknown, args: unknown[]) => unknown;
  /** Called for `PERSID`/`BINPERSID` with the persistent id. @default throws */
  persistentLoad?: (pid: unknown) => unknown;
  /** Byte offset to start at. @default 0 */
  offset?: number;
  /** What the bytes are, for error messages. @default "pickle" */
  label?: string;
}

/** The value of a pickle and where it ended. */
export interface UnpickleResult {
  /** The unpickled value. */
  value: unknown;
  /** Offset of the byte after the `STOP` opcode. */
  end: number;
}

function defaultReduce(callable: unknown, args: unknown[]): unknown {
  if (typeof callable === "function") return callable(...args);
  if (
    callable instanceof PyGlobal && callable.module === "collections" &&
    callable.name === "OrderedDict"
  ) {
    return new Map(
      args.length ? (args[0] as [unknown, unknown][]) : undefined,
    );
  }
  throw new Error(
    `pickle calls ${String(callable)}, which this reader does not support`,
  );
}

/** Longest integer (LONG1/LONG4/INT/LONG) read, in bytes: a state dict's fit in 8. */
const MAX_LONG_BYTES = 1024;

function hashKey(k: unknown): unknown {
  // Python tuples are hashable by value; JS arrays are compared by identity.
  return Array.isArray(k)
    ? JSON.stringify(k, (_, v) => typeof v === "bigint" ? `${v}n` : v)
    : k;
}

/**
 * Reads one pickle from `bytes` (from `options.offset`) up to its `STOP`.
 *
 * @example
 * ```ts
 * import { unpickle } from "@p2p/interop";
 * // pickle.dumps({"a": (1, 2.5, None)}, protocol=2)
 * const bytes = Uint8Array.from(atob("gAJ9cQBYAQAAAGFxAUsBR0AEAAAAAAAATodxAnMu"), (c) => c.charCodeAt(0));
 * console.log(unpickle(bytes).value); // Map(1) { "a" => [ 1, 2.5, null ] }
 * ```
 */
export function unpickle(
  bytes: Uint8Array,
  options: UnpickleOptions = {},
): UnpickleResult {
  const label = options.label ?? "pickle";
  const resolve = options.resolve ??
    ((module: string, name: string) => new PyGlobal(module, name));
  const reduce = options.reduce ?? defaultReduce;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const latin1 = new TextDecoder("latin1");
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let p = options.offset ?? 0;

  const fail = (msg: string): never => {
    throw new Error(`${label}: ${msg} (at byte ${p})`);
  };
  const need = (n: number): void => {
    if (p + n > bytes.length) fail(`truncated: needs ${n} more bytes`);
  };
  const take = (n: number): Uint8Array => {
    if (n < 0) fail(`negative length ${n}`);
    need(n);
    const out = bytes.subarray(p, p + n);
    p += n;
    return out;
  };
  const u8 = (): number => {
    need(1);
    return bytes[p++];
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(p, true);
    p += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(p, true);
    p += 4;
    return v;
  };
  const i32 = (): number => {
    need(4);
    const v = view.getInt32(p, true);
    p += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const v = view.getBigUint64(p, true);
    p += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} too large`);
    return Number(v);
  };
  const line = (): string => {
    const nl = bytes.indexOf(0x0a, p);
    if (nl < 0) fail("unterminated text line");
    const s = latin1.decode(bytes.subarray(p, nl));
    p = nl + 1;
    return s;
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && marks.at(-1)! >= stack.length)) {
      fail("stack underflow");
    }
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail("no MARK on the stack");
    return stack.splice(m!);
  };
  const top = (): unknown => {
    if (stack.length === 0) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const long = (raw: Uint8Array): number | bigint => {
    // Little-endian two's complement.
    if (raw.length === 0) return 0;
    if (raw.length > MAX_LONG_BYTES) {
      fail(
        `an integer of ${raw.length} bytes (at most ${MAX_LONG_BYTES} are read)`,
      );
    }
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(8 * raw.length);
    return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
        v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) {
      fail(`SETITEMS on a ${typeof target}, expected a dict`);
    }
    for (let i = 0; i + 1 < items.length; i += 2) {
      let key: unknown;
      try {
        key = hashKey(items[i]);
      } catch {
        fail("a dict key that is a deeply nested or self-referencing tuple");
      }
      (target as Map<unknown, unknown>).set(key, items[i + 1]);
    }
  };
  const pushGlobal = (module: string, name: string): void => {
    stack.push(resolve(module, name));
  };
  const textInt = (s: string): number | bigint | boolean => {
    if (s === "00") return false;
    if (s === "01") return true;
    const t = s.endsWith("L") ? s.slice(0, -1) : s;
    if (t.length > MAX_LONG_BYTES * 3) {
      fail(`an integer of ${t.length} digits`);
    }
    let v: bigint;
    try {
      v = BigInt(t);
    } catch {
      return fail(`not an integer: "${t.slice(0, 40)}"`);
    }
    return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
        v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v;
  };

  for (;;) {
    const at = p;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail("pickle protocol > 5");
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        if (stack.length !== 1) {
          fail(`STOP with ${stack.length} values on the stack`);
        }
        return { value: stack[0], end: p };
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        if (marks.length && marks.at(-1)! === stack.length) marks.pop();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x49: // INT
        stack.push(textInt(line()));
        break;
      case 0x4c: // LONG
        stack.push(textInt(line()));
        break;
      case 0x8a: // LONG1
        stack.push(long(take(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(long(take(i32())));
        break;
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(p, false));
        p += 8;
        break;
      case 0x46: // FLOAT
        stack.push(parseFloat(line()));
        break;
      case 0x58: // BINUNICODE
        stack.push(utf8.decode(take(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x56: // UNICODE (raw-unicode-escape)
        stack.push(
          line().replace(
            /\\u([0-9a-fA-F]{4})/g,
            (_, h) => String.fromCharCode(parseInt(h, 16)),
          ),
        );
        break;
      case 0x54: // BINSTRING (Python 2 str)
        stack.push(latin1.decode(take(i32())));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(latin1.decode(take(u8())));
        break;
      case 0x53: { // STRING: a quoted repr
        const s = line();
        stack.push(s.slice(1, -1));
        break;
      }
      case 0x42: // BINBYTES
        stack.push(take(u32()).slice());
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(take(u8()).slice());
        break;
      case 0x8e: // BINBYTES8
        stack.push(take(u64()).slice());
        break;
      case 0x96: // BYTEARRAY8
        stack.push(take(u64()).slice());
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        const a = pop();
        stack.push([a, b]);
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push([a, b, c]);
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) fail("APPEND to a non-list");
        (list as unknown[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail("APPENDS to a non-list");
        for (const item of items) (list as unknown[]).push(item);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x64: { // DICT
        const items = popMark();
        const d = new Map();
        setItems(d, items);
        stack.push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(new Set());
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail("ADDITEMS to a non-set");
        for (const i of items) (s as Set<unknown>).add(i);
        break;
      }
      case 0x91: // FROZENSET
        stack.push(new Set(popMark()));
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x70: // PUT
        memo.set(parseInt(line(), 10), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: // LONG_BINGET
      case 0x67: { // GET
        const k = op === 0x68
          ? u8()
          : op === 0x6a
          ? u32()
          : parseInt(line(), 10);
        if (!memo.has(k)) fail(`memo key ${k} not found`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        pushGlobal(module, line());
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") {
          fail("STACK_GLOBAL needs two strings");
        }
        pushGlobal(module as string, name as string);
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const callable = pop();
        if (!Array.isArray(args)) fail("REDUCE arguments are not a tuple");
        stack.push(reduce(callable, args as unknown[]));
        break;
      }
      case 0x81: { // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(reduce(cls, args as unknown[]));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop(); // kwargs
        const args = pop();
        const cls = pop();
        stack.push(reduce(cls, args as unknown[]));
        break;
      }
      case 0x62: { // BUILD: state of the object below; kept only for plain objects
        const state = pop();
        const obj = top();
        if (
          obj && typeof obj === "object" && !(obj instanceof Map) &&
          !Array.isArray(obj) && state instanceof Map
        ) {
          for (const [k, v] of state) {
            (obj as Record<string, unknown>)[String(k)] = v;
          }
        }
        break;
      }
      case 0x51: // BINPERSID
      case 0x50: { // PERSID
        const pid = op === 0x51 ? pop() : line();
        if (!options.persistentLoad) {
          fail("persistent id found but no persistentLoad given");
        }
        stack.push(options.persistentLoad!(pid));
        break;
      }
      default:
        p = at;
        fail(
          `unsupported pickle opcode 0x${op.toString(16).padStart(2, "0")} ('${
            String.fromCharCode(op)
          }')`,
        );
    }
  }
}
