/**
 * Serves the p2p page: draw a label map (facades palette) or edges, or
 * upload an image, and see the generator's translation computed in the
 * browser by tfjs (WebGPU, else WebGL, else wasm).
 *
 *   deno task serve                                   # the default facades model (see below)
 *   deno task serve --checkpoint runs/facades/checkpoints/latest --port 8000
 *   deno task serve --checkpoint DIR --quantize float16
 *
 * Everything is local: the page (cli/web/), the tfjs UMD bundles and wasm
 * binaries (from the installed npm packages, no CDN), and the checkpoint's
 * generator exported as a tfjs LayersModel (in memory, at start).
 *
 * Without `--checkpoint` it serves, in order of preference:
 * 1. `runs/facades/checkpoints/latest`, what `deno task train` (no flags)
 *    writes, when it exists;
 * 2. `runs/serve-facades/checkpoints/latest`, a small model this command
 *    trained on an earlier start;
 * 3. otherwise it first trains that small model on the embedded facades set
 *    ({@linkcode DEFAULT_TRAINING}, a minute or two on two CPU cores), saves
 *    it there and serves it; later starts reuse it.
 *
 * @module
 */
import { exists } from "@p2p/internal";
import * as tf from "@tensorflow/tfjs";
import { createRequire } from "node:module";
import { selectBackend } from "@p2p/backend";
import {
  DATASET_NAMES,
  type DatasetName,
  encodePng,
  FACADE_PALETTE,
  generateDataset,
  maxPixelsFromEnv,
} from "@p2p/data";
import { type Quantization, QUANTIZATIONS, tfjsArtifacts } from "@p2p/interop";
import { formatProgressLine, train, type TrainOptions } from "@p2p/train";
import {
  asGiven,
  BACKEND_FLAGS,
  type FlagTable,
  intFlag,
  parseFlags,
  runMain,
  UsageError,
} from "./args.ts";
import { checkpointKind, loadAnyGenerator } from "./reference_model.ts";

const USAGE = "usage: deno task serve [--checkpoint DIR] [--port N] [flags]";

/** The flags of `deno task serve`. */
export const SERVE_FLAGS: FlagTable = {
  checkpoint: {
    type: "string",
    help:
      "Checkpoint whose generator the page runs (default: a facades model, trained on first use).",
    metavar: "DIR",
    path: true,
  },
  port: {
    type: "string",
    help: "TCP port (0: any free port).",
    default: "8000",
    metavar: "N",
  },
  hostname: {
    type: "string",
    help: "Address to listen on.",
    default: "127.0.0.1",
    metavar: "HOST",
  },
  quantize: {
    type: "string",
    help: "Weight encoding of the model sent to the browser.",
    default: "none",
    choices: QUANTIZATIONS,
  },
  threads: BACKEND_FLAGS.threads,
};

/** Where a served facades model is trained when no checkpoint is given. */
export const DEFAULT_RUN = "runs/serve-facades";

/** The small facades model trained on first use (64×64, depth 6, ngf/ndf 16). */
export const DEFAULT_TRAINING: Readonly<TrainOptions> = {
  dataset: "facades",
  count: 200,
  heldOut: 8,
  size: 64,
  depth: 6,
  ngf: 16,
  ndf: 16,
  epochs: 2,
  epochsDecay: 1,
  displayEvery: 200,
  out: DEFAULT_RUN,
};

/** The largest `i` of `/example.png?i=…`. */
const MAX_EXAMPLE = 1_000_000;

function badRequest(why: string): Response {
  return new Response(`bad request: ${why}\n`, { status: 400 });
}

/**
 * Which `Host` headers the server answers, against DNS rebinding: the bound
 * address, `localhost` (and the loopback addresses when bound to one), and,
 * when bound to every interface, any IP address (a rebinding attack needs a
 * DNS name). The port is not compared.
 *
 * @example
 * ```ts
 * import { allowedHost } from "@p2p/cli";
 * const ok = allowedHost("127.0.0.1");
 * console.log(ok("localhost:8000"), ok("evil.example:8000")); // true false
 * ```
 */
export function allowedHost(bound: string): (host: string) => boolean {
  const strip = (h: string): string => {
    const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(h);
    if (v6) return v6[1].toLowerCase();
    return h.replace(/:\d*$/, "").replace(/\.$/, "").toLowerCase();
  };
  const self = bound.replace(/^\[|\]$/g, "").toLowerCase();
  const loopback = new Set(["localhost", "127.0.0.1", "::1"]);
  const wildcard = self === "0.0.0.0" || self === "::";
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
  return (host: string): boolean => {
    const h = strip(host.trim());
    if (h === self || h === "localhost") return true;
    if (loopback.has(self) && loopback.has(h)) return true;
    return wildcard &&
      (ipv4.test(h) || (h.includes(":") && /^[\da-f:.]+$/.test(h)));
  };
}

/** Options of {@linkcode startServer}. */
export interface ServeOptions {
  /** Checkpoint directory. @default the default facades model (module doc) */
  checkpoint?: string;
  /** TCP port; 0 picks a free one. @default 8000 */
  port?: number;
  /** Address to listen on. @default "127.0.0.1" */
  hostname?: string;
  /** Weight encoding of the model sent to the browser. @default "none" */
  quantize?: Quantization;
  /** Progress and request-error lines. @default console.log */
  log?: (line: string) => void;
  /** CPU threads when a default model is trained. @default see selectBackend */
  threads?: number;
}

/** A running page server. */
export interface PageServer {
  /** Base URL of the page, e.g. `http://127.0.0.1:8000/`. */
  url: string;
  /** The checkpoint served. */
  checkpoint: string;
  /** Stops the server. */
  close(): Promise<void>;
}

const WEB_DIR = new URL("./web/", import.meta.url);

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json",
  wasm: "application/wasm",
  bin: "application/octet-stream",
  png: "image/png",
};

/** npm package files served under `/vendor/`. */
const VENDOR: Record<string, string> = {
  "tf.min.js": "@tensorflow/tfjs/dist/tf.min.js",
  "tf-backend-webgpu.min.js":
    "@tensorflow/tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js",
  "tf-backend-wasm.min.js":
    "@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js",
  "tfjs-backend-wasm.wasm":
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm":
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm":
    "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm",
};

/** Local paths of the `/vendor/` files, from the installed npm packages. */
export function vendorFiles(): Map<string, string> {
  const require = createRequire(import.meta.url);
  const out = new Map<string, string>();
  for (const [name, spec] of Object.entries(VENDOR)) {
    try {
      out.set(name, require.resolve(spec));
    } catch (e) {
      throw new Error(
        `cannot find ${spec} in the npm cache (${
          (e as Error).message.split("\n")[0]
        }); run \`deno install\` or any p2p task once to fetch the packages`,
      );
    }
  }
  return out;
}

/**
 * The checkpoint served when none is given (see the module doc): an existing
 * demo run, else the small default model, trained now if missing.
 */
export async function defaultCheckpoint(
  log: (line: string) => void = console.log,
  threads?: number,
): Promise<string> {
  for (
    const dir of [
      "runs/facades/checkpoints/latest",
      `${DEFAULT_RUN}/checkpoints/latest`,
    ]
  ) {
    if (await exists(`${dir}/config.json`)) return dir;
  }
  log(
    `no checkpoint given and none found: training a small facades model (${DEFAULT_TRAINING.size}×${DEFAULT_TRAINING.size}, ${DEFAULT_TRAINING.count} pairs, ${
      DEFAULT_TRAINING.epochs! + DEFAULT_TRAINING.epochsDecay!
    } epochs) into ${DEFAULT_RUN}; later starts reuse it`,
  );
  await selectBackend({ log, threads });
  let last = 0;
  const result = await train({ ...DEFAULT_TRAINING }, {
    onStep: (p) => {
      const now = performance.now();
      if (now - last > 5000) {
        last = now;
        log(`  ${formatProgressLine(p)}`);
      }
    },
  });
  log(
    `trained ${result.step} steps in ${result.seconds.toFixed(0)} s${
      result.evaluation
        ? `; held-out L1 ${result.evaluation.modelL1.toFixed(3)} (baseline ${
          result.evaluation.baselineL1.toFixed(3)
        })`
        : ""
    }`,
  );
  return result.checkpoint;
}

function exampleSet(source: unknown): DatasetName | null {
  const m = /^embedded:(.+)$/.exec(String(source ?? ""));
  return m && (DATASET_NAMES as readonly string[]).includes(m[1])
    ? m[1] as DatasetName
    : null;
}

function respond(
  body: Uint8Array<ArrayBuffer>,
  name: string,
  status = 200,
): Response {
  return new Response(body, {
    status,
    headers: {
      "content-type": TYPES[name.split(".").pop() ?? ""] ??
        "application/octet-stream",
      "cache-control": "no-store",
      // Cross-origin isolation lets tfjs-wasm use its threaded build.
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-embedder-policy": "require-corp",
    },
  });
}

/** `/example.png?i=N`: input N of the embedded set, drawn at the model's size. */
async function exampleResponse(url: URL, site: Site): Promise<Response> {
  const raw = url.searchParams.get("i") ?? "0";
  const i = /^\d{1,7}$/.test(raw) ? Number(raw) : NaN;
  if (!(i <= MAX_EXAMPLE)) {
    return badRequest(
      `query i must be an integer in 0..${MAX_EXAMPLE}, received "${
        raw.slice(0, 40)
      }"`,
    );
  }
  const [pair] = generateDataset(site.example!, 1, {
    size: site.size,
    seed: 20_000,
    start: i,
  });
  const png = await encodePng(site.direction === "AtoB" ? pair.a : pair.b);
  return respond(png.slice(), "example.png");
}

/** What the page serves besides its static files. */
interface Site {
  /** Vendored tfjs scripts by file name. */
  vendor: Map<string, string>;
  /** The tfjs model files by name. */
  modelFiles: Map<string, Uint8Array>;
  /** The facades palette as JSON. */
  palette: Uint8Array<ArrayBuffer>;
  /** The embedded set whose inputs `/example.png` draws, if any. */
  example: NonNullable<ReturnType<typeof exampleSet>> | null;
  /** The model's image side. */
  size: number;
  /** Which side of an example pair is the model's input. */
  direction: string;
}

/** The request handler of the page, the model and the example inputs. */
function siteHandler(site: Site): (req: Request) => Promise<Response> {
  const { vendor, modelFiles, palette } = site;
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return badRequest(`malformed %-escape in the path ${url.pathname}`);
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("method not allowed", { status: 405 });
    }
    if (path === "/" || path === "/index.html") {
      return respond(
        await Deno.readFile(new URL("index.html", WEB_DIR)),
        "index.html",
      );
    }
    if (path === "/palette.json") return respond(palette, "palette.json");
    let m = /^\/vendor\/([\w.-]+)$/.exec(path);
    if (m && vendor.has(m[1])) {
      return respond(await Deno.readFile(vendor.get(m[1])!), m[1]);
    }
    m = /^\/model\/([\w.-]+)$/.exec(path);
    if (m && modelFiles.has(m[1])) {
      return respond(modelFiles.get(m[1])!.slice(), m[1]);
    }
    if (path === "/example.png" && site.example) {
      return await exampleResponse(url, site);
    }
    m = /^\/([\w-]+\.(?:js|css|html))$/.exec(path);
    if (m) {
      try {
        return respond(await Deno.readFile(new URL(m[1], WEB_DIR)), m[1]);
      } catch {
        // fall through to 404
      }
    }
    return new Response(`not found: ${path}`, { status: 404 });
  };
}

/**
 * Starts the page server for a checkpoint: loads its generator, exports it
 * as a tfjs LayersModel in memory and serves it with the page and tfjs.
 *
 * @example
 * ```ts ignore
 * const server = await startServer({ checkpoint: "runs/facades/checkpoints/latest", port: 0 });
 * console.log(server.url);
 * await server.close();
 * ```
 */
export async function startServer(
  options: ServeOptions = {},
): Promise<PageServer> {
  const log = options.log ?? console.log;
  const vendor = vendorFiles();
  const checkpoint = options.checkpoint ?? await defaultCheckpoint(
    log,
    options.threads,
  );
  const { generator, config } = await loadAnyGenerator(checkpoint);
  const quantize = options.quantize ?? "none";
  const { modelJson, shards } = await tfjsArtifacts(generator, { quantize });
  generator.dispose();
  const size = config.generator.size ?? config.data.size;
  const example = exampleSet(config.data.source);
  const direction = config.data.direction ?? "AtoB";
  const info = {
    format: "p2p-web-model",
    version: 1,
    checkpoint,
    generator: config.generator,
    data: config.data,
    quantize,
    example: example !== null && size >= 16,
    maxPixels: maxPixelsFromEnv(),
  };
  const modelFiles = new Map<string, Uint8Array>([
    ["model.json", new TextEncoder().encode(JSON.stringify(modelJson))],
    ["p2p.json", new TextEncoder().encode(JSON.stringify(info))],
    ...shards.map((s) => [s.name, s.bytes] as [string, Uint8Array]),
  ]);
  const handler = siteHandler({
    vendor,
    modelFiles,
    palette: new TextEncoder().encode(JSON.stringify(FACADE_PALETTE)),
    example: example !== null && size >= 16 ? example : null,
    size,
    direction,
  });

  const hostname = options.hostname ?? "127.0.0.1";
  const allowed = allowedHost(hostname);
  const server = Deno.serve({
    hostname,
    port: options.port ?? 8000,
    onListen: () => {},
  }, async (req) => {
    const host = req.headers.get("host");
    if (host !== null && !allowed(host)) {
      // DNS rebinding: a page elsewhere that made its name resolve here.
      return new Response(
        `forbidden: Host "${
          host.slice(0, 100)
        }" is not this server (${hostname}) nor localhost\n`,
        { status: 403 },
      );
    }
    try {
      return await handler(req);
    } catch (e) {
      log(`error serving ${req.url}: ${(e as Error).message}`);
      return new Response("internal error", { status: 500 });
    }
  });
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${server.addr.port}/`,
    checkpoint,
    close: () => server.shutdown(),
  };
}

async function main(): Promise<void> {
  const v = parseFlags(Deno.args, USAGE, SERVE_FLAGS);
  if (!v) return;
  const port = intFlag(v, "port", 0, 65535);
  if (v.checkpoint && !(await checkpointKind(v.checkpoint as string))) {
    throw new UsageError(
      `--checkpoint ${v.checkpoint} is neither a p2p checkpoint (no config.json) nor a reference checkpoint (no *_net_G.pth)`,
    );
  }
  // The server computes nothing but the model export: the CPU backend will
  // do (training a default model selects the fastest backend itself).
  await tf.setBackend("cpu");
  const server = await startServer({
    checkpoint: v.checkpoint as string | undefined,
    port,
    hostname: v.hostname as string,
    quantize: v.quantize as Quantization,
    ...(v.threads === undefined
      ? {}
      : { threads: intFlag(v, "threads", 1, 1024) }),
  });
  console.log(
    asGiven(`serving ${server.checkpoint} at ${server.url} (Ctrl-C to stop)`),
  );
}

if (import.meta.main) await runMain(main);
