/**
 * The p2p command line: `deno task train`, `translate`, `eval`, `data` and
 * friends. Each command is a thin file over the packages; this module exports
 * the shared flag parsing and each command's flag table.
 *
 * @example
 * ```ts
 * import { helpText, TRANSLATE_FLAGS } from "@p2p/cli";
 * console.log(helpText("usage: deno task translate", TRANSLATE_FLAGS).includes("--checkpoint")); // true
 * ```
 *
 * @module
 */
export * from "./args.ts";
export { TRANSLATE_FLAGS } from "./translate.ts";
export { EVAL_FLAGS } from "./eval.ts";
export { allowedHost, SERVE_FLAGS } from "./serve.ts";
export * from "./progress_bar.ts";
export * from "./download.ts";
export * from "./extract_tar.ts";
export * from "./reference_downloads.ts";
export * from "./reference_html.ts";
export * from "./reference_tester_flags.ts";
