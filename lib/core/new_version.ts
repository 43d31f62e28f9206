/**
 * Names for new migrations: the next version (in the width already used, or
 * a UTC timestamp) and a file-name slug from the message. Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { type FileName, parseFileName } from "./files.ts";

/** A file-name slug from a message: lower-case ASCII letters and digits joined by `_`. */
export function slugify(message: string): string {
  return message.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60).replace(/_+$/, "");
}

/**
 * The version for a new migration among directory `names`: the highest
 * version + 1, zero-padded to the width that version is written with (4 in an
 * empty directory), or with `timestamp` its UTC `YYYYMMDDHHMMSS`. Also the
 * previous version's text, for `revises`. Throws `USAGE` when a timestamp
 * would not sort after the existing versions.
 */
export function nextVersion(
  names: readonly string[],
  options: { timestamp?: Date } = {},
): { version: string; previous?: string } {
  let last: FileName | undefined;
  for (const n of names) {
    const p = parseFileName(n);
    if (p && (!last || p.version > last.version)) last = p;
  }
  if (options.timestamp) {
    const version = options.timestamp.toISOString().replace(/[-:T]/g, "").slice(0, 14);
    if (last && BigInt(version) <= last.version) {
      throw new StrataError(
        "USAGE",
        `Cannot number by timestamp: ${version} is not after ${last.versionText}`,
        {
          hint: "Leave out --timestamp to take the next number",
        },
      );
    }
    return { version, previous: last?.versionText };
  }
  if (!last) return { version: "0001" };
  const next = String(last.version + 1n);
  return { version: next.padStart(last.versionText.length, "0"), previous: last.versionText };
}
