/**
 * Flag parsing shared by the p2p commands: `node:util` parseArgs in strict
 * mode, `--help` generated from the same table that holds the defaults, and
 * errors that name the flag and the value received.
 *
 * @module
 */
import { oneOf } from "@p2p/internal";
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs";
import { BACKEND_NAMES, type BackendName, selectBackend } from "@p2p/backend";

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
  /** Another spelling accepted for the flag (the reference's, e.g. `netG`). @default undefined */
  alias?: string;
  /** The default as `--help` shows it, when it is not `default` (e.g. derived). @default undefined */
  shownDefault?: string;
  /** Accepted but listed in `--help` only by name, in one line. @default false */
  hidden?: boolean;
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
  const shown = Object.entries(flags).filter(([, f]) => !f.hidden);
  const rows = shown.map(([name, f]) => {
    const names = f.alias ? `--${name}, --${f.alias}` : `--${name}`;
    const left = f.type === "string"
      ? `${names} ${f.metavar ?? "VALUE"}`
      : names;
    const choices = f.choices ? ` (${f.choices.join(" | ")})` : "";
    const shownDefault = f.shownDefault ?? f.default;
    const def = shownDefault === undefined ? "" : ` [default: ${shownDefault}]`;
    return `  ${left.padEnd(28)} ${f.help}${choices}${def}`;
  });
  const hidden = Object.entries(flags).filter(([, f]) => f.hidden);
  const accepted = hidden.length === 0
    ? ""
    : `\n\nAccepted and ignored: ${hidden.map(([n]) => `--${n}`).join(" ")}`;
  return `${usage}\n\nFlags:\n${rows.join("\n")}\n  ${
    "--help".padEnd(28)
  } Show this help.${accepted}`;
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
    if (f.alias) options[f.alias] = { type: f.type };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, options),
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
  const raw = parsed.values as FlagValues;
  for (const [name, f] of Object.entries(flags)) {
    if (f.alias && raw[name] !== undefined && raw[f.alias] !== undefined) {
      throw new UsageError(
        `--${name} and --${f.alias} are the same flag; give it once`,
      );
    }
    const v = raw[name] ?? (f.alias ? raw[f.alias] : undefined) ?? f.default;
    if (f.choices && typeof v === "string") {
      try {
        oneOf(`--${name}`, v, f.choices);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    values[name] = v;
  }
  return values;
}

/** `--flag -1` → `--flag=-1` for string flags, as the reference's argparse reads it. */
function joinNegativeValues(
  args: string[],
  options: Record<string, { type: "string" | "boolean" }>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    if (
      options[name]?.type === "string" && i + 1 < args.length &&
      /^-\d/.test(args[i + 1])
    ) {
      out.push(`${args[i]}=${args[++i]}`);
    } else out.push(args[i]);
  }
  return out;
}

/** The flags of `flags` that `args` gives, by their table name (an alias counts as its flag). */
export function givenFlags(args: string[], flags: FlagTable): Set<string> {
  const out = new Set<string>();
  for (const [name, f] of Object.entries(flags)) {
    for (const spelling of f.alias ? [name, f.alias] : [name]) {
      if (
        args.some((a) =>
          a === `--${spelling}` || a.startsWith(`--${spelling}=`)
        )
      ) {
        out.add(name);
      }
    }
  }
  return out;
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
};

/** Selects the backend the {@linkcode BACKEND_FLAGS} ask for; returns its name. */
export async function backendFromFlags(values: FlagValues): Promise<string> {
  const choice = await selectBackend({
    backend: values.backend as BackendName,
    allowSoftwareGpu: values["allow-software-gpu"] as boolean,
  });
  return choice.backend;
}
