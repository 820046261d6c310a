import { strict as assert } from "node:assert";
import { gzipSync } from "node:zlib";
import { Buffer } from "node:buffer";
import * as tarStream from "tar-stream";
import { unet } from "@p2p/models";
import { writeReferenceCheckpoint } from "@p2p/interop";
import { downloadFile, parseContentRange, PARTIAL_SUFFIX } from "./download.ts";
import { extractTarGz } from "./extract_tar.ts";
import { downloadDataset, downloadPretrained } from "./reference_downloads.ts";
import { progressLine } from "./progress_bar.ts";
import { runCli } from "../tests/run_cli.ts";

interface PackEntry {
  name: string;
  type?: string;
  linkname?: string;
  data?: Uint8Array;
}

/** A .tar.gz made with tar-stream's packer. */
async function tarGz(entries: PackEntry[]): Promise<Uint8Array> {
  const pack = (tarStream as unknown as {
    pack(): {
      entry(h: Record<string, unknown>, data?: Buffer): void;
      finalize(): void;
    } & AsyncIterable<Uint8Array>;
  }).pack();
  for (const e of entries) {
    const h = { name: e.name, type: e.type ?? "file", linkname: e.linkname };
    if (h.type === "file") {
      pack.entry(h, Buffer.from(e.data ?? new Uint8Array()));
    } else pack.entry(h);
  }
  pack.finalize();
  const chunks: Uint8Array[] = [];
  for await (const c of pack) chunks.push(c);
  return new Uint8Array(gzipSync(Buffer.concat(chunks)));
}

const FACADES: PackEntry[] = [
  { name: "facades/", type: "directory" },
  { name: "facades/train/1.jpg", data: new Uint8Array(3000).fill(1) },
  { name: "facades/train/2.jpg", data: new Uint8Array(3000).fill(2) },
  { name: "facades/val/1.jpg", data: new Uint8Array(10).fill(3) },
  { name: "facades/test/1.jpg", data: new Uint8Array(10).fill(4) },
];

type Behaviour = "normal" | "cut-first" | "grow-on-resume" | "short-range";

/** A local server for BASE/…: files by path, behaviours by path, Range supported. */
function serve(
  files: Record<string, Uint8Array>,
  behaviour: Record<string, Behaviour> = {},
) {
  const ac = new AbortController();
  const log: string[] = [];
  const seen = new Map<string, number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    (req) => {
      const path = new URL(req.url).pathname;
      const range = req.headers.get("range");
      log.push(`${path} ${range ?? ""}`.trim());
      const body = files[path];
      if (!body) return new Response("not here", { status: 404 });
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      const how = behaviour[path] ?? "normal";
      if (range) {
        const start = Number(/bytes=(\d+)-/.exec(range)![1]);
        const total = how === "grow-on-resume" ? body.length + 5 : body.length;
        const end = how === "short-range" ? start + 9 : body.length - 1;
        return new Response(Uint8Array.from(body.slice(start, end + 1)), {
          status: 206,
          headers: { "content-range": `bytes ${start}-${total - 1}/${total}` },
        });
      }
      if (how !== "normal" && n === 1) {
        // Send the first half, then break the connection.
        let sent = false;
        const stream = new ReadableStream<Uint8Array>({
          pull(c) {
            if (!sent) {
              sent = true;
              c.enqueue(body.slice(0, body.length >> 1));
            } else c.error(new Error("connection cut by the test"));
          },
        });
        return new Response(stream, {
          headers: { "content-length": String(body.length) },
        });
      }
      return new Response(Uint8Array.from(body));
    },
  );
  return {
    base: `http://127.0.0.1:${server.addr.port}`,
    log,
    async close() {
      ac.abort();
      await server.finished;
    },
  };
}

async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      out.push(r);
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

Deno.test("progress line and Content-Range parsing", () => {
  assert.equal(
    progressLine("f", { done: 512, total: 1024, seconds: 2 }),
    "f [##########----------]  50% 512 B / 1.00 KiB 256 B/s ETA 2s",
  );
  assert.equal(
    progressLine("f", { done: 2048, total: null, seconds: 1 }),
    "f 2.00 KiB 2.00 KiB/s",
  );
  assert.deepEqual(parseContentRange("bytes 5-9/10"), {
    start: 5,
    end: 9,
    total: 10,
  });
  assert.deepEqual(parseContentRange("bytes */10"), {
    start: null,
    end: null,
    total: 10,
  });
  assert.equal(parseContentRange("items 1-2/3"), null);
});

Deno.test("data --download: downloads, extracts to DIR/NAME/{train,val,test}, removes the archive", async () => {
  const archive = await tarGz(FACADES);
  const srv = serve({ "/datasets/facades.tar.gz": archive });
  const out = await Deno.makeTempDir();
  try {
    const r = await downloadDataset("facades", `${out}/datasets`, {
      mirror: srv.base,
      progress: null,
    });
    assert.equal(r.dir, `${out}/datasets/facades`);
    assert.deepEqual(r.splits, { train: 2, val: 1, test: 1 });
    assert.deepEqual(await listing(`${out}/datasets`), [
      "facades",
      "facades/test",
      "facades/test/1.jpg",
      "facades/train",
      "facades/train/1.jpg",
      "facades/train/2.jpg",
      "facades/val",
      "facades/val/1.jpg",
    ]);
    assert.deepEqual(
      await Deno.readFile(`${out}/datasets/facades/train/2.jpg`),
      new Uint8Array(3000).fill(2),
    );
    await assert.rejects(
      () =>
        downloadDataset("facades", `${out}/datasets`, {
          mirror: srv.base,
          progress: null,
        }),
      /already exists/,
    );
    await assert.rejects(
      () =>
        downloadDataset("faces", `${out}/datasets`, {
          mirror: srv.base,
          progress: null,
        }),
      /"faces" is not one of the reference's: facades, cityscapes/,
    );
  } finally {
    await srv.close();
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("an interrupted transfer keeps a recognisable partial file and the next run resumes it with Range", async () => {
  const data = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  const srv = serve({ "/f.bin": data }, { "/f.bin": "cut-first" });
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () =>
        downloadFile(`${srv.base}/f.bin`, `${dir}/f.bin`, { progress: null }),
      /interrupted after \d+ of 200000 bytes .*kept: run the same command again to resume/,
    );
    const partial = await Deno.stat(`${dir}/f.bin${PARTIAL_SUFFIX}`);
    assert.ok(partial.size > 0 && partial.size < data.length);
    assert.ok(!(await listing(dir)).includes("f.bin"));
    const r = await downloadFile(`${srv.base}/f.bin`, `${dir}/f.bin`, {
      progress: null,
    });
    assert.equal(r.resumedAt, partial.size);
    assert.equal(srv.log.at(-1), `/f.bin bytes=${partial.size}-`);
    assert.deepEqual(await Deno.readFile(`${dir}/f.bin`), data);
    assert.deepEqual(await listing(dir), ["f.bin"]);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a 404, a size that changes on resume and a short range are clear errors; nothing is left at the destination", async () => {
  const data = new Uint8Array(50_000).fill(9);
  const srv = serve({ "/grow.bin": data, "/short.bin": data }, {
    "/grow.bin": "grow-on-resume",
    "/short.bin": "short-range",
  });
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      () =>
        downloadDataset("maps", dir, {
          mirror: `${srv.base}/`,
          progress: null,
        }),
      new RegExp(`${srv.base}/datasets/maps.tar.gz: HTTP 404 .*--mirror`),
    );
    await assert.rejects(
      () =>
        downloadFile(`${srv.base}/grow.bin`, `${dir}/grow.bin`, {
          progress: null,
        }),
      /interrupted/,
    );
    await assert.rejects(
      () =>
        downloadFile(`${srv.base}/grow.bin`, `${dir}/grow.bin`, {
          progress: null,
        }),
      /is now 50005 bytes on the server, the interrupted download expected 50000; the partial download was removed/,
    );
    await assert.rejects(
      () =>
        downloadFile(`${srv.base}/short.bin`, `${dir}/short.bin`, {
          progress: null,
        }),
      /interrupted/,
    );
    await assert.rejects(
      () =>
        downloadFile(`${srv.base}/short.bin`, `${dir}/short.bin`, {
          progress: null,
        }),
      /received 25010 bytes, the server announced 50000/,
    );
    const left = await listing(dir);
    assert.deepEqual(left, [
      `short.bin${PARTIAL_SUFFIX}`,
      `short.bin${PARTIAL_SUFFIX}.json`,
    ]);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a truncated archive, a path traversal and a link leave nothing half-extracted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = await tarGz(FACADES);
    await Deno.writeFile(`${dir}/cut.tar.gz`, good.slice(0, good.length - 40));
    await assert.rejects(
      () => extractTarGz(`${dir}/cut.tar.gz`, `${dir}/cut`),
      /cut.tar.gz: the archive is damaged or truncated/,
    );
    await Deno.writeFile(
      `${dir}/evil.tar.gz`,
      await tarGz([
        { name: "facades/train/1.jpg", data: new Uint8Array(4) },
        { name: "facades/../../escape.txt", data: new Uint8Array(4) },
      ]),
    );
    await assert.rejects(
      () => extractTarGz(`${dir}/evil.tar.gz`, `${dir}/evil`),
      /entry "facades\/..\/..\/escape.txt" climbs out of the destination/,
    );
    await Deno.writeFile(
      `${dir}/link.tar.gz`,
      await tarGz([
        { name: "d/train/1.jpg", data: new Uint8Array(4) },
        { name: "d/train/x.jpg", type: "symlink", linkname: "/etc/passwd" },
      ]),
    );
    const r = await extractTarGz(`${dir}/link.tar.gz`, `${dir}/link`, {
      maxEntryBytes: 100,
    });
    assert.deepEqual(r.skipped, ["d/train/x.jpg (symlink)"]);
    assert.deepEqual(await listing(`${dir}/link`), [
      "d",
      "d/train",
      "d/train/1.jpg",
    ]);
    await Deno.writeFile(
      `${dir}/big.tar.gz`,
      await tarGz([{ name: "big.bin", data: new Uint8Array(1000) }]),
    );
    await assert.rejects(
      () =>
        extractTarGz(`${dir}/big.tar.gz`, `${dir}/big`, { maxEntryBytes: 100 }),
      /"big.bin" \(1000 bytes\) passes the size limits/,
    );
    assert.deepEqual(await listing(dir), [
      "big.tar.gz",
      "cut.tar.gz",
      "evil.tar.gz",
      "link",
      "link.tar.gz",
      "link/d",
      "link/d/train",
      "link/d/train/1.jpg",
    ]);
    const srv = serve({
      "/datasets/facades.tar.gz": good.slice(0, good.length - 40),
    });
    try {
      await assert.rejects(
        () =>
          downloadDataset("facades", `${dir}/ds`, {
            mirror: srv.base,
            progress: null,
          }),
        /damaged or truncated/,
      );
      assert.deepEqual(await listing(`${dir}/ds`), []);
    } finally {
      await srv.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pretrained: BASE/models-pytorch/NAME.pth becomes DIR/NAME_pretrained/latest_net_G.pth, architecture read", async () => {
  const dir = await Deno.makeTempDir();
  const config = {
    kind: "unet" as const,
    depth: 7,
    ngf: 2,
    size: null,
    bias: "reference" as const,
  };
  const g = unet(config);
  await writeReferenceCheckpoint(`${dir}/src`, "x", {
    generator: g,
    configs: { generator: config },
  });
  g.dispose();
  const pth = await Deno.readFile(`${dir}/src/x_net_G.pth`);
  const srv = serve({
    "/models-pytorch/facades_label2photo.pth": pth,
    "/models-pytorch/sat2map.pth": new TextEncoder().encode(
      "<html>not a model</html>",
    ),
  });
  try {
    const r = await downloadPretrained(
      "facades_label2photo",
      `${dir}/checkpoints`,
      {
        mirror: srv.base,
        progress: null,
      },
    );
    assert.equal(
      r.file,
      `${dir}/checkpoints/facades_label2photo_pretrained/latest_net_G.pth`,
    );
    assert.equal(r.netG, "unet_128");
    assert.deepEqual(await Deno.readFile(r.file), pth);
    await assert.rejects(
      () =>
        downloadPretrained("sat2map", `${dir}/checkpoints`, {
          mirror: srv.base,
          progress: null,
        }),
      /sat2map.pth is not a pix2pix generator that p2p can read/,
    );
    assert.deepEqual(
      await listing(`${dir}/checkpoints/sat2map_pretrained`),
      [],
    );
    await assert.rejects(
      () =>
        downloadPretrained("day2night", `${dir}/checkpoints`, {
          mirror: srv.base,
          progress: null,
        }),
      /day2night.pth: HTTP 404/,
    );
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

async function command(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string }> {
  const r = await runCli(`cli/${script}`, args, { env });
  return { code: r.code, out: r.all };
}

Deno.test("deno task pretrained and data --download as commands (--mirror, P2P_MIRROR, plain progress off a terminal)", async () => {
  const dir = await Deno.makeTempDir();
  const config = {
    kind: "unet" as const,
    depth: 8,
    ngf: 2,
    size: null,
    bias: "reference" as const,
  };
  const g = unet(config);
  await writeReferenceCheckpoint(`${dir}/src`, "x", {
    generator: g,
    configs: { generator: config },
  });
  g.dispose();
  const srv = serve({
    "/models-pytorch/map2sat.pth": await Deno.readFile(
      `${dir}/src/x_net_G.pth`,
    ),
    "/datasets/night2day.tar.gz": await tarGz(
      FACADES.map((e) => ({
        ...e,
        name: e.name.replace("facades", "night2day"),
      })),
    ),
  });
  try {
    let r = await command("pretrained.ts", [
      "map2sat",
      "--checkpoints_dir",
      `${dir}/ck`,
      "--mirror",
      srv.base,
    ]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /map2sat: --netG unet_256 --norm batch/);
    assert.match(r.out, /map2sat.pth \[#{20}\] 100%/);
    assert.ok(
      (await Deno.stat(`${dir}/ck/map2sat_pretrained/latest_net_G.pth`)).isFile,
    );
    r = await command("pretrained.ts", ["map3sat"]);
    assert.equal(r.code, 2);
    assert.match(r.out, /one of facades_label2photo, sat2map/);
    r = await command("data.ts", [
      "--download",
      "night2day",
      "--out",
      `${dir}/ds`,
    ], {
      P2P_MIRROR: srv.base,
    });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /night2day\/train\/ {2}2 files/);
    assert.deepEqual(await listing(`${dir}/ds`), [
      "night2day",
      "night2day/test",
      "night2day/test/1.jpg",
      "night2day/train",
      "night2day/train/1.jpg",
      "night2day/train/2.jpg",
      "night2day/val",
      "night2day/val/1.jpg",
    ]);
    r = await command("data.ts", ["--download", "edges2cats"]);
    assert.equal(r.code, 2);
    assert.match(
      r.out,
      /--download: expected one of facades, cityscapes, maps/,
    );
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
