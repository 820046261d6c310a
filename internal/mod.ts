/**
 * Helpers that several p2p packages share: atomic, durable file writes;
 * output folders that never replace what p2p did not write; user paths
 * resolved against the folder the command was typed in; and validation with
 * one message style. Internal to p2p: no stability promise to other users.
 *
 * @example
 * ```ts
 * import { integerIn, oneOf } from "@p2p/internal";
 * console.log(oneOf("direction", "AtoB", ["AtoB", "BtoA"] as const)); // "AtoB"
 * console.log(integerIn("size", 64, 16, 4096)); // 64
 * ```
 *
 * @module
 */
export * from "./bytes.ts";
export * from "./fs.ts";
export * from "./output.ts";
export * from "./user_path.ts";
export * from "./validate.ts";
