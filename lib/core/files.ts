/**
 * Migration files: names, text decoding, checksums and pairing of up and down
 * files into migrations. Pure: takes `{name, bytes}` entries (see source.ts).
 *
 * @module
 */

import { checksumOf, fileHashOf, SMALL_FILE } from "./checksum.ts";
import { StrataError } from "./errors.ts";
import { type Header, parseHeader } from "./header.ts";
import { decideRunMode } from "./run_mode.ts";
import { findLineComments, splitStatements } from "./sql_lexer.ts";
import { sha256Hex } from "./sha256.ts";
import { decodeText } from "./text.ts";
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
 *
 * Eager (the default) parses every file now and lists every problem. With
 * `lazy`, up files are only decoded and their headers read (for `revises` and
 * messages); each file is lexed when first used (`Migration.up`, `.down` and
 * `.checksum` then throw its StrataError), so an upgrade does not lex applied
 * files that did not change, nor any down file.
 */
export async function loadMigrations(
  entries: readonly FileEntry[],
  options: { lazy?: boolean } = {},
): Promise<LoadResult> {
  const problems: StrataError[] = [];
  const warnings: string[] = [];
  const byVersion = groupByVersion(entries, problems);
  const built: Array<Promise<Migration | null>> = [];
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
    built.push(buildMigration(group.up, group.down, { problems, lazy: options.lazy === true }));
  }
  const migrations = (await Promise.all(built)).filter((m): m is Migration => m !== null);
  checkRevises(migrations, problems);
  for (const m of migrations) {
    const up = m.upFileName;
    if (m.downFileName === null) {
      warnings.push(`"${up}" has no down file: the migration is irreversible`);
    } else if (parseFileName(m.downFileName)!.name !== m.name) {
      warnings.push(`"${up}" is paired with "${m.downFileName}": the names differ`);
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
  how: { problems: StrataError[]; lazy: boolean },
): Promise<Migration | null> {
  try {
    // Large files are hashed now, by Web Crypto; small ones in JavaScript when first needed.
    const big = up.entry.bytes.length >= SMALL_FILE ? await fileHashOf(up.entry.bytes) : undefined;
    const m = lazyMigration(up, down ?? null, big);
    if (how.lazy) void m.message;
    else void [m.up, m.down, m.checksum];
    return m;
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    how.problems.push(err);
    if (!how.lazy && down) tryParse(down.entry, "down", how.problems);
    return null;
  }
}

function tryParse(entry: FileEntry, direction: "up" | "down", problems: StrataError[]): void {
  try {
    parseMigrationFile(entry, direction);
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    problems.push(err);
  }
}

/** A migration whose files are parsed, and checksum computed, when first used. */
function lazyMigration(up: Named, down: Named | null, knownHash: string | undefined): Migration {
  let upFile: MigrationFile | undefined;
  let downFile: MigrationFile | null | undefined;
  let header: Header | undefined;
  let checksum: string | undefined;
  let fileHash = knownHash;
  const headerOf = () =>
    header ??= upFile?.header ??
      parseHeader(decodeText(up.entry.bytes, up.entry.name), up.entry.name);
  return {
    version: up.parsed.version,
    versionText: up.parsed.versionText,
    name: up.parsed.name,
    upFileName: up.entry.name,
    downFileName: down?.entry.name ?? null,
    get fileHash() {
      return fileHash ??= `sha256:${sha256Hex(up.entry.bytes)}`;
    },
    get message() {
      return headerOf().message ?? up.parsed.name.replaceAll("_", " ");
    },
    get revises() {
      return headerOf().revises;
    },
    get isBaseline() {
      return headerOf().baseline === true;
    },
    get up() {
      return upFile ??= parseMigrationFile(up.entry, "up");
    },
    get down() {
      if (downFile === undefined) downFile = down ? parseMigrationFile(down.entry, "down") : null;
      return downFile;
    },
    get checksum() {
      return checksum ??= checksumOf(this.up);
    },
  };
}

/**
 * `m` with `fn` applied to its files when they are first used (never
 * before: spreading a migration would parse both files).
 */
export function mapMigrationFiles(
  m: Migration,
  fn: (file: MigrationFile) => MigrationFile,
): Migration {
  let up: MigrationFile | undefined;
  let down: MigrationFile | null | undefined;
  return {
    version: m.version,
    versionText: m.versionText,
    name: m.name,
    upFileName: m.upFileName,
    downFileName: m.downFileName,
    fileHash: m.fileHash,
    get message() {
      return m.message;
    },
    get revises() {
      return m.revises;
    },
    get isBaseline() {
      return m.isBaseline;
    },
    get up() {
      return up ??= fn(m.up);
    },
    get down() {
      if (down === undefined) down = m.down ? fn(m.down) : null;
      return down;
    },
    get checksum() {
      return m.checksum;
    },
  };
}

function checkRevises(migrations: readonly Migration[], problems: StrataError[]): void {
  for (let i = 0; i < migrations.length; i++) {
    const revises = migrations[i].revises;
    if (revises === undefined) continue;
    const previous = i > 0 ? migrations[i - 1] : undefined;
    if (previous && previous.version === revises) continue;
    const file = migrations[i].upFileName;
    problems.push(
      new StrataError(
        "REVISES_MISMATCH",
        `Cannot load "${file}": it revises ${revises} but the previous migration is ` +
          (previous ? `"${previous.upFileName}"` : "none"),
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
