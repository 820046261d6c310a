import { strict as assert } from "node:assert";
import { PyGlobal, unpickle } from "./pickle.ts";

const b64 = (s: string): Uint8Array =>
  Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

// pickle.dumps(OBJ, protocol=P) for
// OBJ = {"s": "héllo", "i": [0, 255, 256, 65535, 65536, -1, -2**31, 2**31, 2**62, -2**70],
//        "f": [1.5, -0.0, 1e300], "t": (None, True, False), "n": {"x": (1,)}, "e": ((), [], {})}
const OBJ_PICKLES: Record<number, string> = {
  0: "KGRwMApWcwpwMQpWaOlsbG8KcDIKc1ZpCnAzCihscDQKSTAKYUkyNTUKYUkyNTYKYUk2NTUzNQphSTY1NTM2CmFJLTEKYUktMjE0NzQ4MzY0OAphTDIxNDc0ODM2NDhMCmFMNDYxMTY4NjAxODQyNzM4NzkwNEwKYUwtMTE4MDU5MTYyMDcxNzQxMTMwMzQyNEwKYXNWZgpwNQoobHA2CkYxLjUKYUYtMC4wCmFGMWUrMzAwCmFzVnQKcDcKKE5JMDEKSTAwCnRwOApzVm4KcDkKKGRwMTAKVngKcDExCihJMQp0cDEyCnNzVmUKcDEzCigodChscDE0CihkcDE1CnRwMTYKcy4=",
  2: "gAJ9cQAoWAEAAABzcQFYBgAAAGjDqWxsb3ECWAEAAABpcQNdcQQoSwBL/00AAU3//0oAAAEASv////9KAAAAgIoFAAAAgACKCAAAAAAAAABAigkAAAAAAAAAAMBlWAEAAABmcQVdcQYoRz/4AAAAAAAAR4AAAAAAAAAAR3435DyIAHWcZVgBAAAAdHEHToiJh3EIWAEAAABucQl9cQpYAQAAAHhxC0sBhXEMc1gBAAAAZXENKV1xDn1xD4dxEHUu",
  4: "gASVlQAAAAAAAAB9lCiMAXOUjAZow6lsbG+UjAFplF2UKEsAS/9NAAFN//9KAAABAEr/////SgAAAICKBQAAAIAAiggAAAAAAAAAQIoJAAAAAAAAAADAZYwBZpRdlChHP/gAAAAAAABHgAAAAAAAAABHfjfkPIgAdZxljAF0lE6IiYeUjAFulH2UjAF4lEsBhZRzjAFllCldlH2Uh5R1Lg==",
};

for (const [proto, text] of Object.entries(OBJ_PICKLES)) {
  Deno.test(`unpickle: protocol ${proto} scalars, containers, big ints`, () => {
    const bytes = b64(text);
    const { value, end } = unpickle(bytes);
    assert.equal(end, bytes.length);
    const d = value as Map<string, unknown>;
    assert.ok(d instanceof Map);
    assert.deepEqual([...d.keys()], ["s", "i", "f", "t", "n", "e"]);
    assert.equal(d.get("s"), "héllo");
    assert.deepEqual(d.get("i"), [
      0,
      255,
      256,
      65535,
      65536,
      -1,
      -(2 ** 31),
      2 ** 31,
      2n ** 62n,
      -(2n ** 70n),
    ]);
    const f = d.get("f") as number[];
    assert.equal(f[0], 1.5);
    assert.ok(Object.is(f[1], -0));
    assert.equal(f[2], 1e300);
    assert.deepEqual(d.get("t"), [null, true, false]);
    assert.deepEqual(d.get("n"), new Map([["x", [1]]]));
    assert.deepEqual(d.get("e"), [[], [], new Map()]);
  });
}

Deno.test("unpickle: memo references give the same object", () => {
  // pickle.dumps({"a": shared, "b": shared}, protocol=2) with shared = [1, 2]
  const { value } = unpickle(
    b64("gAJ9cQAoWAEAAABhcQFdcQIoSwFLAmVYAQAAAGJxA2gCdS4="),
  );
  const d = value as Map<string, unknown>;
  assert.deepEqual(d.get("a"), [1, 2]);
  assert.equal(d.get("a"), d.get("b"));
});

Deno.test("unpickle: OrderedDict via GLOBAL (protocol 2) and STACK_GLOBAL (protocol 4)", () => {
  for (
    const text of [
      "gAJjY29sbGVjdGlvbnMKT3JkZXJlZERpY3QKcQApUnEBKFgBAAAAa3ECSwFYAQAAAGpxA0sCdS4=",
      "gASVMAAAAAAAAACMC2NvbGxlY3Rpb25zlIwLT3JkZXJlZERpY3SUk5QpUpQojAFrlEsBjAFqlEsCdS4=",
    ]
  ) {
    const seen: string[] = [];
    const { value } = unpickle(b64(text), {
      resolve: (m, n) => {
        seen.push(`${m}.${n}`);
        return new PyGlobal(m, n);
      },
    });
    assert.deepEqual(seen, ["collections.OrderedDict"]);
    assert.deepEqual([...(value as Map<string, number>)], [["k", 1], ["j", 2]]);
  }
});

Deno.test("unpickle: bytes (protocol 3)", () => {
  const { value } = unpickle(b64("gANDBAABYWJxAC4="));
  assert.deepEqual(value, Uint8Array.of(0, 1, 0x61, 0x62));
});

Deno.test("unpickle: refuses to call unknown globals, naming them", () => {
  // pickle.dumps(fractions.Fraction(1, 3), protocol=2)
  assert.throws(
    () => unpickle(b64("gAJjZnJhY3Rpb25zCkZyYWN0aW9uCnEASwFLA4ZxAVJxAi4=")),
    /fractions\.Fraction/,
  );
});

Deno.test("unpickle: persistent ids go to persistentLoad", () => {
  // PROTO 2, ( 'storage' K1 t Q .  — a tuple persistent id
  const bytes = Uint8Array.of(
    0x80,
    2,
    0x28,
    0x8c,
    7,
    ...new TextEncoder().encode("storage"),
    0x4b,
    1,
    0x74,
    0x51,
    0x2e,
  );
  const { value } = unpickle(bytes, { persistentLoad: (pid) => ({ pid }) });
  assert.deepEqual(value, { pid: ["storage", 1] });
  assert.throws(() => unpickle(bytes), /persistent id/);
});

Deno.test("unpickle: truncated and unknown opcodes are clear errors", () => {
  const good = b64("gAJ9cQAoWAEAAABhcQFdcQIoSwFLAmVYAQAAAGJxA2gCdS4=");
  assert.throws(
    () => unpickle(good.subarray(0, 10), { label: "x.pkl" }),
    /x\.pkl: truncated/,
  );
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0xff)), /opcode 0xff/);
});
