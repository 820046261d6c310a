/**
 * The page of `deno task serve` in a real browser: Debian's Chromium,
 * headless, driven by playwright-core. Draws on the input canvas, waits for
 * the translation, checks that the output canvas is not blank and that it
 * matches the same generator run in Deno (eval mode), then saves a
 * screenshot. Also loads the page on the wasm backend (`?backend=wasm`).
 *
 * Needs `/usr/bin/chromium` (`apt-get install -y chromium`) or
 * `P2P_CHROMIUM=/path/to/chromium`; skipped with a message when neither
 * exists. The screenshot goes to `out/browser/screenshot.png`, and to
 * `docs/screenshot.png` (the README's) with `P2P_UPDATE_SCREENSHOT=1`.
 * `P2P_BROWSER_CHECKPOINT=DIR` serves that checkpoint instead of the test's
 * small untrained one (for a nicer screenshot).
 */
import * as tf from "@tensorflow/tfjs";
import { strict as assert } from "node:assert";
import { buildGenerator, preset } from "@p2p/models";
import { generateDataset, imageToTensor } from "@p2p/data";
import { loadGenerator, saveCheckpoint } from "@p2p/train";
import { startServer } from "../cli/serve.ts";

const CHROMIUM = Deno.env.get("P2P_CHROMIUM") ?? "/usr/bin/chromium";
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function chromiumFound(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

const found = chromiumFound();
if (!found) {
  console.log(
    `tests/browser_test.ts: SKIPPED: Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set P2P_CHROMIUM)`,
  );
}

/**
 * A small untrained reference U-Net saved as a checkpoint, its BatchNorm
 * running statistics settled on facade label maps (training-mode passes), so
 * that eval mode gives an image-like output rather than saturated noise.
 */
async function makeCheckpoint(dir: string): Promise<void> {
  const p = preset("reference", {
    size: 64,
    depth: 6,
    ngf: 8,
    ndf: 8,
    seed: 3,
  });
  const g = buildGenerator(p.generator);
  const labels = tf.stack(
    generateDataset("facades", 8, { size: 64, seed: 5 }).map((pair) =>
      imageToTensor(pair.a)
    ),
  );
  for (let i = 0; i < 40; i++) {
    tf.dispose(g.apply(labels, { training: true }) as tf.Tensor);
  }
  labels.dispose();
  await saveCheckpoint(dir, {
    generator: g,
    generatorConfig: p.generator,
    data: {
      direction: "AtoB",
      inChannels: 3,
      outChannels: 3,
      size: 64,
      source: "embedded:facades",
    },
  });
  g.dispose();
}

/** Deno's eval-mode output, in [0, 1], for RGBA pixels read from the page. */
function denoOutput(
  model: tf.LayersModel,
  rgba: number[],
  size: number,
): Float32Array {
  return tf.tidy(() => {
    const px = tf.tensor(Uint8Array.from(rgba), [size, size, 4], "int32");
    const x = tf.slice(px, [0, 0, 0], [size, size, 3]).toFloat().div(127.5)
      .sub(1).expandDims(0);
    const y = model.predict(x) as tf.Tensor;
    return y.squeeze([0]).add(1).div(2).clipByValue(0, 1)
      .dataSync() as Float32Array;
  });
}

interface PageState {
  ready: boolean;
  error: string | null;
  backend: string;
  backendNotes: string[];
  size: number;
  translations: number;
  busy: boolean;
  lastOutput: number[];
  lastMs: number;
}

Deno.test({
  name: "page: draw, translate in Chromium, match Deno's output, screenshot",
  ignore: !found,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await tf.setBackend("cpu"); // Deno's reference output
    const { chromium } = await import("npm:playwright-core@1.65.1");
    const tmp = await Deno.makeTempDir({ prefix: "p2p_browser_" });
    const given = Deno.env.get("P2P_BROWSER_CHECKPOINT");
    const checkpoint = given ?? `${tmp}/checkpoint`;
    if (!given) await makeCheckpoint(checkpoint);
    const server = await startServer({ checkpoint, port: 0, log: () => {} });
    const { generator } = await loadGenerator(checkpoint);
    const context = await chromium.launchPersistentContext(`${tmp}/profile`, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1100, height: 720 },
    });
    try {
      const page = await context.newPage();
      const logs: string[] = [];
      page.on("console", (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
      const state = () =>
        page.evaluate(() =>
          (globalThis as unknown as { p2p: PageState }).p2p
        ) as Promise<PageState>;
      const settle = async (after: number): Promise<PageState> => {
        await page.waitForFunction(
          (n: number) => {
            const s = (globalThis as unknown as { p2p: PageState }).p2p;
            return s.error !== null || (s.translations > n && !s.busy);
          },
          after,
          { timeout: 120_000, polling: 100 },
        );
        const s = await state();
        assert.equal(
          s.error,
          null,
          `page error: ${s.error}\n${logs.join("\n")}`,
        );
        return s;
      };

      await page.goto(server.url);
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { p2p?: PageState }).p2p;
          return s && (s.error !== null || (s.ready && s.translations > 0));
        },
        undefined,
        { timeout: 120_000, polling: 100 },
      );
      let s = await state();
      assert.equal(s.error, null, `page error: ${s.error}\n${logs.join("\n")}`);
      console.log(
        `browser backend: ${s.backend}${
          s.backendNotes.length
            ? ` (not used: ${s.backendNotes.join("; ")})`
            : ""
        }`,
      );
      assert.ok(["webgpu", "webgl", "wasm"].includes(s.backend), s.backend);

      // Start from an example label map, then draw on it.
      await page.click("#example");
      s = await settle(s.translations);
      const box = (await page.locator("#input").boundingBox())!;
      const at = (fx: number, fy: number): [number, number] => [
        box.x + fx * box.width,
        box.y + fy * box.height,
      ];
      // Two window rectangles (the default colour, rectangle tool).
      for (
        const [x0, y0, x1, y1] of [[0.15, 0.3, 0.35, 0.45], [
          0.6,
          0.3,
          0.8,
          0.45,
        ]]
      ) {
        await page.mouse.move(...at(x0, y0));
        await page.mouse.down();
        await page.mouse.move(...at((x0 + x1) / 2, (y0 + y1) / 2), {
          steps: 3,
        });
        await page.mouse.move(...at(x1, y1), { steps: 3 });
        await page.mouse.up();
      }
      // A door-coloured brush stroke.
      await page.click('#palette button[data-id="3"]');
      await page.selectOption("#tool", "brush");
      await page.mouse.move(...at(0.45, 0.95));
      await page.mouse.down();
      await page.mouse.move(...at(0.5, 0.7), { steps: 8 });
      await page.mouse.move(...at(0.55, 0.95), { steps: 8 });
      await page.mouse.up();
      s = await settle(s.translations);
      console.log(
        `translations: ${s.translations}, last ${s.lastMs.toFixed(0)} ms`,
      );

      const size = s.size;
      // Evaluated in the page (a string: Deno's type library has no DOM).
      const read = (id: string) =>
        page.evaluate(`(() => {
          const c = document.getElementById(${JSON.stringify(id)});
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height);
          return Array.from(d.data);
        })()`) as Promise<number[]>;
      const inputPx = await read("input");
      const outputPx = await read("output");

      // The drawing reached the canvas: the window and door colours are there.
      const colours = new Set<string>();
      for (let i = 0; i < inputPx.length; i += 4) {
        colours.add(`${inputPx[i]},${inputPx[i + 1]},${inputPx[i + 2]}`);
      }
      assert.ok(colours.has("0,85,255"), "window colour drawn");
      assert.ok(colours.has("0,170,255"), "door colour drawn");

      // The output canvas is not blank.
      const values = outputPx.filter((_, i) => i % 4 !== 3);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(
        values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length,
      );
      const distinct = new Set<string>();
      for (let i = 0; i < outputPx.length; i += 4) {
        distinct.add(`${outputPx[i]},${outputPx[i + 1]},${outputPx[i + 2]}`);
      }
      console.log(
        `output canvas: mean ${mean.toFixed(1)}, sd ${
          sd.toFixed(1)
        }, ${distinct.size} colours`,
      );
      assert.ok(sd > 1 && distinct.size > 20, "the output canvas is blank");

      // The browser's output equals Deno's for the same input pixels.
      const want = denoOutput(generator, inputPx, size);
      let maxErr = 0, maxPx = 0;
      for (let i = 0; i < want.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(want[i] - s.lastOutput[i]));
      }
      for (let p = 0; p < size * size; p++) {
        for (let c = 0; c < 3; c++) {
          const canvas = outputPx[4 * p + c];
          maxPx = Math.max(maxPx, Math.abs(canvas - want[3 * p + c] * 255));
        }
      }
      console.log(
        `max |browser − Deno|: ${
          maxErr.toExponential(2)
        } (values in [0, 1]); output canvas vs Deno: ${
          maxPx.toFixed(2)
        } levels of 255`,
      );
      assert.ok(
        maxErr <= 2e-3,
        `browser output differs from Deno's by ${maxErr}`,
      );
      assert.ok(
        maxPx <= 1.5,
        `output canvas differs from Deno's by ${maxPx} levels`,
      );

      await Deno.mkdir("out/browser", { recursive: true });
      await page.screenshot({ path: "out/browser/screenshot.png" });
      if (Deno.env.get("P2P_UPDATE_SCREENSHOT") === "1") {
        await Deno.mkdir("docs", { recursive: true });
        await page.screenshot({ path: "docs/screenshot.png" });
        console.log("wrote docs/screenshot.png");
      }

      // The same page on the wasm backend (its .wasm files are served locally).
      if (s.backend !== "wasm") {
        await page.goto(`${server.url}?backend=wasm`);
        await page.waitForFunction(
          () => {
            const s = (globalThis as unknown as { p2p?: PageState }).p2p;
            return s && (s.error !== null || (s.ready && s.translations > 0));
          },
          undefined,
          { timeout: 120_000, polling: 100 },
        );
        const w = await state();
        assert.equal(
          w.error,
          null,
          `wasm page error: ${w.error}\n${logs.join("\n")}`,
        );
        assert.equal(w.backend, "wasm");
        const wasmInput = await read("input");
        const wantW = denoOutput(generator, wasmInput, size);
        let errW = 0;
        for (let i = 0; i < wantW.length; i++) {
          errW = Math.max(errW, Math.abs(wantW[i] - w.lastOutput[i]));
        }
        console.log(
          `wasm backend: max |browser − Deno| ${errW.toExponential(2)}`,
        );
        assert.ok(errW <= 2e-3, `wasm output differs from Deno's by ${errW}`);
      }
    } finally {
      await context.close();
      await server.close();
      generator.dispose();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
