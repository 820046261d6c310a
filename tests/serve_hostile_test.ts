/**
 * `serve` against hostile requests: malformed `%` escapes and absurd query
 * values are 400 (not 500); Host headers other than the bound address and
 * localhost are refused (DNS rebinding).
 */
import assert from "node:assert/strict";
import { selectBackend } from "@p2p/backend";
import { unet } from "@p2p/models";
import { saveCheckpoint } from "@p2p/train";
import { allowedHost } from "@p2p/cli";
import { startServer } from "../cli/serve.ts";

/** Sends a raw HTTP/1.1 request (fetch would not send a crafted Host). */
async function raw(
  port: number,
  target: string,
  host: string,
): Promise<{ status: number; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(65536);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((c) => [...c])),
    );
    const status = Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1]);
    return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
  } finally {
    try {
      conn.close();
    } catch { /* closed by the server */ }
  }
}

Deno.test("serve: bad escapes and absurd queries are 400, foreign Host headers 403", async () => {
  const dir = await Deno.makeTempDir();
  await selectBackend({ backend: "cpu", log: null });
  const config = { kind: "unet" as const, depth: 5, ngf: 2, seed: 4 };
  const g = unet(config);
  await saveCheckpoint(`${dir}/ckpt`, {
    generator: g,
    generatorConfig: config,
    data: {
      direction: "AtoB",
      inChannels: 3,
      outChannels: 3,
      size: 32,
      source: "embedded:facades",
    },
  });
  g.dispose();
  const lines: string[] = [];
  const server = await startServer({
    checkpoint: `${dir}/ckpt`,
    port: 0,
    log: (l) => lines.push(l),
  });
  const port = Number(new URL(server.url).port);
  try {
    const host = `127.0.0.1:${port}`;
    assert.equal((await raw(port, "/", host)).status, 200);
    assert.equal((await raw(port, "/", `localhost:${port}`)).status, 200);
    let r = await raw(port, "/%E0%A4%A", host);
    assert.equal(r.status, 400);
    assert.match(r.body, /malformed %-escape/);
    r = await raw(port, "/vendor/%zz", host);
    assert.equal(r.status, 400);
    assert.equal((await raw(port, "/example.png?i=3", host)).status, 200);
    for (const i of ["1e300", "-1", "99999999999", "NaN", "0x10", "%ff"]) {
      r = await raw(port, `/example.png?i=${i}`, host);
      assert.equal(r.status, 400, `i=${i}: ${r.body}`);
      assert.match(r.body, /query i must be an integer in 0\.\.1000000/);
    }
    r = await raw(port, "/", `evil.example:${port}`);
    assert.equal(r.status, 403);
    assert.match(r.body, /Host "evil\.example:\d+" is not this server/);
    assert.equal(
      (await raw(port, "/model/model.json", "attacker.test")).status,
      403,
    );
    assert.deepEqual(lines.filter((l) => l.startsWith("error")), []);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("allowedHost: the bound address and localhost; any IP only when bound to all interfaces", () => {
  const lo = allowedHost("127.0.0.1");
  assert.ok(
    lo("127.0.0.1:8000") && lo("localhost") && lo("LOCALHOST:1") &&
      lo("[::1]:80"),
  );
  assert.ok(!lo("evil.example") && !lo("127.0.0.1.nip.io") && !lo("10.0.0.1"));
  const all = allowedHost("0.0.0.0");
  assert.ok(
    all("192.168.1.20:8000") && all("[fe80::1]:8000") && all("localhost"),
  );
  assert.ok(!all("rebind.example:8000"));
  const v6 = allowedHost("::1");
  assert.ok(v6("[::1]:8000") && v6("localhost:8000") && !v6("x.test"));
});
