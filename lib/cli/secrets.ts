/**
 * The last line of defence for secrets: an `Io` whose output is scrubbed of
 * every registered password, in any %-encoding. (Every URL is already
 * redacted where it is made; see `core/quote.ts` redactUrl.)
 *
 * @module
 */

import type { Io } from "../commands/context.ts";

/**
 * A pattern matching a secret as it may appear in text: each character as
 * is or %-encoded (any case, any mixture), and a space also as `+`.
 */
export function secretPattern(secret: string): RegExp {
  const enc = new TextEncoder();
  const parts = [...secret].map((ch) => {
    const hex = [...enc.encode(ch)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
    const raw = ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return `(?:${raw}|${hex}${ch === " " ? "|\\+" : ""})`;
  });
  return new RegExp(parts.join(""), "gi");
}

/** `io` with stdout and stderr scrubbed of `secrets` (which may grow while it is used). */
export function redactingIo(io: Io, secrets: readonly RegExp[]): Io {
  const scrub = (text: string) => {
    let out = text;
    for (const s of secrets) out = out.replace(s, "***");
    return out;
  };
  return {
    ...io,
    stdout: (t) => io.stdout(scrub(t)),
    stderr: (t) => io.stderr(scrub(t)),
  };
}

/**
 * Register a secret: shorter than 4 characters it is not scrubbed from
 * output (it would mangle ordinary text), but it is still never printed by
 * strata, which redacts every URL where it is made.
 */
export function addSecret(secrets: RegExp[], secret: string): void {
  if (secret.length >= 4) secrets.push(secretPattern(secret));
}
