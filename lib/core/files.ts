/**
 * Migration files: names, text decoding, checksums and pairing of up and down
 * files into migrations. Pure: takes `{name, bytes}` entries (see source.ts).
 *
 * @module
 */

import { checksumOf } from "./checksum.ts";
import { StrataError } from "./errors.ts";
import { type Header, parseHeader } from "./header.ts";
import { decideRunMode } from "./run_mode.ts";
import { findLineComments, splitStatements } from "./sql_lexer.ts";
import type { Migration, MigrationFile } from "./types.ts";

/** A directory entry handed to the loader: file name and raw bytes. */
export interface FileEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** The parts of a migration file name. */
export interface FileName {
  readonly version: bigint;
  readonly versionText: string;
  readonly name: string;
  readonly direction: "up" | "down";
}

/** The result of loading a directory: migrations in version order, or every problem found. */
export interface LoadResult {
  readonly migrations: readonly Migration[];
  readonly warnings: readonly string[];
  readonly problems: readonly StrataError[];
}

const FILE_NAME = /^(\d+)_(.+)\.(up|down)\.sql$/i;

/**
 * Parse `<version>_<name>.(up|down).sql`. Returns null for a name that does not
 * match (the caller decides whether that is an error).
 */
export function parseFileName(fileName: string): FileName | null {
  const m = FILE_NAME.exec(fileName);
  if (!m) return null;
  return {
    version: BigInt(m[1]),
    versionText: m[1],
    name: m[2],
    direction: m[3].toLowerCase() as "up" | "down",
  };
}

/** True for names strata must consider: visible files ending in `.sql` (any case). */
export function isSqlFileName(fileName: string): boolean {
  return !fileName.startsWith(".") && fileName.toLowerCase().endsWith(".sql");
}

/**
 * Decode UTF-8 strictly, strip a BOM and read CRLF (and lone CR) as LF.
 * Throws `INVALID_TEXT` naming the file and the byte offset of a NUL byte or
 * of the first invalid UTF-8 sequence.
 */
export function decodeText(bytes: Uint8Array, fileName: string): string {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new StrataError(
      "INVALID_TEXT",
      `Cannot read "${fileName}": NUL byte at byte offset ${nul}`,
      { file: fileName, hint: "A migration must be UTF-8 text; is this a binary file?" },
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new StrataError(
      "INVALID_TEXT",
      `Cannot read "${fileName}": invalid UTF-8 at byte offset ${at}`,
      { file: fileName, hint: "Save the file as UTF-8 (it may be Latin-1 or Windows-1252)" },
    );
  }
  return text.replace(/\r\n?/g, "\n");
}

/** Byte offset of the first invalid UTF-8 sequence in `bytes`, or -1 when valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    const b1 = bytes[i + 1];
    if (
      (b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) ||
      (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)
    ) return i;
    i += len;
  }
  return -1;
}

/** Decode, header-parse, lex and decide the run mode of one file. Throws StrataError. */
export function parseMigrationFile(
  entry: FileEntry,
  direction: "up" | "down",
): MigrationFile {
  const file = entry.name;
  const text = decodeText(entry.bytes, file);
  const header: Header = parseHeader(text, file, {
    lineComments: () => findLineComments(text, { file }),
  });
  const statements = splitStatements(text, { file }).filter((s) => !s.isEmpty);
  const runMode = decideRunMode(text, statements, { header, file });
  return { fileName: file, direction, text, header, statements, runMode };
}

/**
 * Load migrations from directory entries: every `.sql` name must match, each
 * version has at most one up and one down file, down files need an up file,
 * `revises` must name the previous version. Collects every problem rather than
 * stopping at the first; `problems` is empty when the set is usable.
 */
export async function loadMigrations(entries: readonly FileEntry[]): Promise<LoadResult> {
  const problems: StrataError[] = [];
  const warnings: string[] = [];
  const byVersion = groupByVersion(entries, problems);
  const pending: Array<Promise<Migration | null>> = [];
  for (const [, group] of [...byVersion].sort((a, b) => compareBig(a[0], b[0]))) {
    if (!group.up) {
      const down = group.down!;
      problems.push(
        new StrataError("BAD_FILE_NAME", `Cannot pair "${down.entry.name}": no up file`, {
          file: down.entry.name,
          hint: `Create "${down.parsed.versionText}_${down.parsed.name}.up.sql" or remove it`,
        }),
      );
      continue;
    }
    // Not awaited one by one: the SHA-256 digests of all files then run concurrently.
    pending.push(buildMigration(group.up, group.down, problems));
  }
  const migrations = (await Promise.all(pending)).filter((m): m is Migration => m !== null);
  checkRevises(migrations, problems);
  for (const m of migrations) {
    if (!m.down) {
      warnings.push(`"${m.up.fileName}" has no down file: the migration is irreversible`);
    } else if (parseFileName(m.down.fileName)!.name !== m.name) {
      warnings.push(`"${m.up.fileName}" is paired with "${m.down.fileName}": the names differ`);
    }
  }
  return { migrations, warnings, problems };
}

interface Named {
  readonly entry: FileEntry;
  readonly parsed: FileName;
}

function groupByVersion(
  entries: readonly FileEntry[],
  problems: StrataError[],
): Map<bigint, { up?: Named; down?: Named }> {
  const byVersion = new Map<bigint, { up?: Named; down?: Named }>();
  for (const entry of [...entries].sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (!isSqlFileName(entry.name)) continue;
    const parsed = parseFileName(entry.name);
    if (!parsed) {
      problems.push(
        new StrataError("BAD_FILE_NAME", `Cannot load "${entry.name}": not a migration name`, {
          file: entry.name,
          hint: "Name it <version>_<name>.up.sql or <version>_<name>.down.sql " +
            "(e.g. 0003_add_index.up.sql), or move it out of the migrations directory",
        }),
      );
      continue;
    }
    const group = byVersion.get(parsed.version) ?? {};
    const other = group[parsed.direction];
    if (other) {
      problems.push(
        new StrataError(
          "DUPLICATE_VERSION",
          `Cannot load version ${parsed.versionText}: two ${parsed.direction} files, ` +
            `"${other.entry.name}" and "${entry.name}"`,
          { file: entry.name, hint: "Give one of them a new version number" },
        ),
      );
      continue;
    }
    group[parsed.direction] = { entry, parsed };
    byVersion.set(parsed.version, group);
  }
  return byVersion;
}

async function buildMigration(
  up: Named,
  down: Named | undefined,
  problems: StrataError[],
): Promise<Migration | null> {
  const upFile = tryParse(up.entry, "up", problems);
  const downFile = down ? tryParse(down.entry, "down", problems) : null;
  if (!upFile || (down && !downFile)) return null;
  return {
    version: up.parsed.version,
    versionText: up.parsed.versionText,
    name: up.parsed.name,
    message: upFile.header.message ?? up.parsed.name.replaceAll("_", " "),
    checksum: await checksumOf(upFile),
    up: upFile,
    down: downFile,
  };
}

function tryParse(
  entry: FileEntry,
  direction: "up" | "down",
  problems: StrataError[],
): MigrationFile | null {
  try {
    return parseMigrationFile(entry, direction);
  } catch (err) {
    if (err instanceof StrataError) {
      problems.push(err);
      return null;
    }
    throw err;
  }
}

function checkRevises(migrations: readonly Migration[], problems: StrataError[]): void {
  for (let i = 0; i < migrations.length; i++) {
    const revises = migrations[i].up.header.revises;
    if (revises === undefined) continue;
    const previous = i > 0 ? migrations[i - 1] : undefined;
    if (previous && previous.version === revises) continue;
    const file = migrations[i].up.fileName;
    problems.push(
      new StrataError(
        "REVISES_MISMATCH",
        `Cannot load "${file}": it revises ${revises} but the previous migration is ` +
          (previous ? `"${previous.up.fileName}"` : "none"),
        {
          file,
          hint: "Two branches may have added migrations at once: renumber this one to follow " +
            "the last, and set revises to that version",
        },
      ),
    );
  }
}

/** Compare two bigints for sorting. */
export function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

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
