/**
 * Flag parsing shared by the p2p commands: `node:util` parseArgs in strict
 * mode, `--help` generated from the same table that holds the defaults, and
 * errors that name the flag and the value received.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import {
  BACKEND_NAMES,
  type BackendName,
  selectBackend,
  type SelectBackendOptions,
} from "@p2p/backend";

/** One flag of a command. */
export interface FlagSpec {
  /** `string` flags take a value; `boolean` flags do not. */
  type: "string" | "boolean";
  /** One line of help. */
  help: string;
  /** Default shown in `--help` and returned when the flag is absent. @default undefined */
  default?: string | boolean;
  /** Allowed values of a string flag. @default any */
  choices?: readonly string[];
  /** Placeholder of the value in `--help`. @default "VALUE" */
  metavar?: string;
}

/** The flags of a command, by long name. */
export type FlagTable = Record<string, FlagSpec>;

/** Parsed flag values: strings and booleans by long name. */
export type FlagValues = Record<string, string | boolean | undefined>;

/** A bad flag or value; commands print its message and exit with status 2. */
export class UsageError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Renders the help text of a command. */
export function helpText(usage: string, flags: FlagTable): string {
  const rows = Object.entries(flags).map(([name, f]) => {
    const left = f.type === "string"
      ? `--${name} ${f.metavar ?? "VALUE"}`
      : `--${name}`;
    const choices = f.choices ? ` (${f.choices.join(" | ")})` : "";
    const def = f.default === undefined ? "" : ` [default: ${f.default}]`;
    return `  ${left.padEnd(28)} ${f.help}${choices}${def}`;
  });
  return `${usage}\n\nFlags:\n${rows.join("\n")}\n  ${
    "--help".padEnd(28)
  } Show this help.`;
}

/**
 * Parses `args` against `flags`. Returns `null` when `--help` was given (the
 * help is printed); throws {@linkcode UsageError} naming an unknown flag, a
 * missing value or a value outside `choices`.
 *
 * @example
 * ```ts
 * import { parseFlags } from "@p2p/cli";
 * const v = parseFlags(["--size", "64"], "usage: x", {
 *   size: { type: "string", help: "Image side.", default: "256" },
 * });
 * console.log(v?.size); // "64"
 * ```
 */
export function parseFlags(
  args: string[],
  usage: string,
  flags: FlagTable,
): FlagValues | null {
  const options: Record<string, { type: "string" | "boolean" }> = {
    help: { type: "boolean" },
  };
  for (const [name, f] of Object.entries(flags)) {
    options[name] = { type: f.type };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    const msg = (e as Error).message.replace(
      /\. To specify a positional argument.*$/s,
      "",
    );
    throw new UsageError(`${msg}\nRun with --help to list the flags.`);
  }
  if (parsed.values.help) {
    console.log(helpText(usage, flags));
    return null;
  }
  const values: FlagValues = {};
  for (const [name, f] of Object.entries(flags)) {
    const v = (parsed.values as FlagValues)[name] ?? f.default;
    if (f.choices && typeof v === "string" && !f.choices.includes(v)) {
      throw new UsageError(
        `--${name} must be one of ${f.choices.join(", ")}, received "${v}"`,
      );
    }
    values[name] = v;
  }
  return values;
}

/** Reads an integer flag, with bounds; the error names the flag and the value. */
export function intFlag(
  values: FlagValues,
  name: string,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = values[name];
  const n = Number(raw);
  if (
    typeof raw !== "string" || raw.trim() === "" || !Number.isInteger(n) ||
    n < min || n > max
  ) {
    throw new UsageError(
      `--${name} must be an integer${
        max < Number.MAX_SAFE_INTEGER ? ` in ${min}..${max}` : ` ≥ ${min}`
      }, received "${raw}"`,
    );
  }
  return n;
}

/** Reads a finite number flag; the error names the flag and the value. */
export function numberFlag(
  values: FlagValues,
  name: string,
  min = -Infinity,
): number {
  const raw = values[name];
  const n = Number(raw);
  if (
    typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(n) ||
    n < min
  ) {
    throw new UsageError(
      `--${name} must be a number${
        min > -Infinity ? ` ≥ ${min}` : ""
      }, received "${raw}"`,
    );
  }
  return n;
}

/**
 * Runs a command's main function: prints a {@linkcode UsageError} (exit 2) or
 * any other error (exit 1) as one clear line instead of a stack trace.
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  tf.enableProdMode(); // no tfjs "running in Node.js" banner, no debug checks
  try {
    await main();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    console.error(`error: ${(e as Error).message ?? e}`);
    if (Deno.env.get("P2P_DEBUG")) console.error((e as Error).stack);
    Deno.exit(1);
  }
}

/** The backend flags every command that runs a model takes. */
export const BACKEND_FLAGS: FlagTable = {
  backend: {
    type: "string",
    help: "tfjs backend (auto: hardware WebGPU, else wasm, else cpu).",
    default: "auto",
    choices: BACKEND_NAMES,
    metavar: "B",
  },
  "allow-software-gpu": {
    type: "boolean",
    help: "Let auto use a software WebGPU adapter (llvmpipe).",
    default: false,
  },
  threads: {
    type: "string",
    help:
      "CPU threads for wasm and the native BLAS (default: OPENBLAS_NUM_THREADS or OMP_NUM_THREADS when set).",
    metavar: "N",
  },
};

/** Selects the backend the {@linkcode BACKEND_FLAGS} ask for; returns its name. */
export async function backendFromFlags(values: FlagValues): Promise<string> {
  const choice = await selectBackend(backendOptionsFromFlags(values));
  return choice.backend;
}

/**
 * The {@linkcode selectBackend} options the {@linkcode BACKEND_FLAGS} ask
 * for; throws {@linkcode UsageError} for a bad `--threads`.
 */
export function backendOptionsFromFlags(
  values: FlagValues,
): SelectBackendOptions {
  return {
    backend: values.backend as BackendName,
    allowSoftwareGpu: values["allow-software-gpu"] as boolean,
    ...(values.threads === undefined
      ? {}
      : { threads: intFlag(values, "threads", 1, 1024) }),
  };
}
