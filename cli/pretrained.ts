/**
 * `deno task pretrained NAME [--checkpoints_dir DIR] [--mirror URL]`: the
 * reference's pretrained pix2pix generator NAME, downloaded from
 * `BASE/models-pytorch/NAME.pth` to `DIR/NAME_pretrained/latest_net_G.pth`
 * (default `DIR` = `checkpoints`) as its `scripts/download_pix2pix_model.sh`
 * does, and checked to load in p2p. `translate`, `serve` and `export` then
 * use it with `--name NAME_pretrained` or `--checkpoint DIR/NAME_pretrained`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { userPath } from "@p2p/internal";
import {
  downloadBase,
  downloadPretrained,
  MIRROR_ENV,
  REFERENCE_BASE,
  REFERENCE_PRETRAINED,
} from "./reference_downloads.ts";

/** The `--help` text of `deno task pretrained`. */
export function pretrainedHelp(): string {
  return `Usage: deno task pretrained NAME [--checkpoints_dir DIR] [--mirror URL] [--force]

Downloads the reference's pretrained generator NAME (${
    REFERENCE_PRETRAINED.join(", ")
  })
from BASE/models-pytorch/NAME.pth to DIR/NAME_pretrained/latest_net_G.pth.

Options:
  --checkpoints_dir DIR  (alias --checkpoints-dir) [default: checkpoints]
  --mirror URL           replaces BASE [default: $${MIRROR_ENV}, else ${REFERENCE_BASE}]
  --force                download again over an existing file`;
}

/** Runs the command; returns the exit code. */
export async function pretrainedMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        checkpoints_dir: { type: "string" },
        "checkpoints-dir": { type: "string" },
        mirror: { type: "string" },
        force: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    console.error(`error: ${(e as Error).message} (see --help)`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(pretrainedHelp());
    return 0;
  }
  const name = positionals[0] ?? "";
  if (positionals.length !== 1 || !REFERENCE_PRETRAINED.includes(name)) {
    console.error(
      `error: expected one model name, one of ${
        REFERENCE_PRETRAINED.join(", ")
      }; received ${
        positionals.length ? positionals.map((p) => `'${p}'`).join(" ") : "none"
      }`,
    );
    return 2;
  }
  const dir = values.checkpoints_dir ?? values["checkpoints-dir"] ??
    "checkpoints";
  try {
    const base = downloadBase(values.mirror);
    const r = await downloadPretrained(name, userPath(dir), {
      mirror: values.mirror,
      force: values.force,
    });
    const shown = `${
      dir.replace(/\/+$/, "")
    }/${name}_pretrained/latest_net_G.pth`;
    console.log(
      r.url
        ? `${base}/models-pytorch/${name}.pth -> ${shown}`
        : `${shown} is already there (--force downloads it again)`,
    );
    console.log(`${name}: --netG ${r.netG} --norm ${r.norm}`);
    const dirFlag = dir === "checkpoints" ? "" : ` --checkpoints_dir ${dir}`;
    console.log(
      `use it: deno task translate --dataroot DIR --name ${name}_pretrained${dirFlag} --model test --dataset_mode single\n` +
        `        deno task translate --checkpoint ${dir}/${name}_pretrained --input IMAGE --output OUT.png\n` +
        `        deno task serve --checkpoint ${dir}/${name}_pretrained`,
    );
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await pretrainedMain(Deno.args));
