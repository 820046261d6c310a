// `deno task train` end to end at a tiny size, as a subprocess.
import assert from "node:assert/strict";
import { writeDataset } from "@p2p/data";
import { type CliResult, runCli } from "../tests/run_cli.ts";

function run(args: string[]): Promise<CliResult> {
  return runCli("cli/train.ts", args);
}

Deno.test("cli train: a tiny run writes samples, index.html with the plot, log.jsonl and checkpoints", async () => {
  const root = await Deno.makeTempDir();
  await writeDataset("facades", `${root}/data`, {
    count: 10,
    size: 32,
    seed: 1,
  });
  const r = await run([
    "--backend",
    "cpu",
    "--data",
    `${root}/data`,
    "--size",
    "32",
    "--depth",
    "5",
    "--ngf",
    "4",
    "--ndf",
    "4",
    "--epochs",
    "1",
    "--epochs-decay",
    "0",
    "--display-every",
    "3",
    "--out",
    `${root}/run`,
  ]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.err, /p2p: backend cpu/);
  assert.match(r.out, /completed at step 8\/8/);
  assert.match(
    r.out,
    /held-out L1 over 1 pairs: model [\d.]+, always-the-mean-training-target baseline [\d.]+; ratio/,
  );
  const samples = [...Deno.readDirSync(`${root}/run/samples`)].map((e) =>
    e.name
  ).sort();
  assert.deepEqual(samples, [
    "epoch_1_step_3.png",
    "epoch_1_step_6.png",
    "epoch_1_step_8.png",
  ]);
  const html = await Deno.readTextFile(`${root}/run/index.html`);
  assert.match(html, /<svg[^>]*>.*<path d="M/s);
  assert.match(html, /samples\/epoch_1_step_8.png/);
  const log = (await Deno.readTextFile(`${root}/run/log.jsonl`)).trim().split(
    "\n",
  );
  assert.equal(log.length, 8);
  assert.ok(
    ["G_GAN", "G_L1", "D_real", "D_fake"].every((k) => k in JSON.parse(log[7])),
  );
  for (const c of ["latest", "epoch_1"]) {
    const config = JSON.parse(
      await Deno.readTextFile(`${root}/run/checkpoints/${c}/config.json`),
    );
    assert.equal(config.format, "p2p-checkpoint");
    assert.equal(config.step, 8);
    assert.equal(config.train.ngf, 4);
    assert.ok(
      (await Deno.stat(`${root}/run/checkpoints/${c}/generator/weights.bin`))
        .size > 0,
    );
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("cli train: --help lists every flag with its default; bad flags and values exit 2 naming them", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  for (
    const f of [
      "--data",
      "--dataset",
      "--preset",
      "--size",
      "--depth",
      "--ngf",
      "--ndf",
      "--batch",
      "--epochs",
      "--epochs-decay",
      "--lambda-l1",
      "--gan-mode",
      "--backend",
      "--allow-software-gpu",
      "--seed",
      "--out",
      "--resume",
      "--display-every",
      "--save-every",
      "--direction",
    ]
  ) {
    assert.match(help.out, new RegExp(`^  ${f}\\b.*\\[default: `, "m"), f);
  }
  const cases: [string[], RegExp][] = [
    [["--bogus"], /Unknown option '--bogus'/],
    [["--size", "abc"], /--size must be an integer .* received "abc"/],
    [
      ["--size", "48"],
      /--size 48 is not divisible by 2\^depth = 64 \(--depth 6\)/,
    ],
    [
      ["--gan-mode", "hinge"],
      /--gan-mode must be one of vanilla, lsgan, wgangp, received "hinge"/,
    ],
    [
      ["--data", "/nonexistent/p2p"],
      /--data \/nonexistent\/p2p does not exist/,
    ],
    [["--data", "x", "--dataset", "facades"], /either --data or --dataset/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, re);
  }
});
