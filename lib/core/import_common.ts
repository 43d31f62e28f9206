/**
 * What every converter of another tool's migrations shares: the shape of a
 * conversion, the walk over a source directory, rendering files and pairs,
 * the run-mode test that decides whether a converted file needs
 * `-- transaction: false`, and the final check that the converted files load
 * as strata migrations. Pure.
 *
 * Invariant of a conversion: every source file is accounted for. It became
 * converted files, or it is named in `notes` (not carried over, or changed
 * on the way), or in `refusals` (the import cannot go on). Nothing is
 * dropped silently.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { type FileEntry, loadMigrations } from "./files.ts";
import { decodeText } from "./text.ts";
import { parseHeader } from "./header.ts";
import { decideRunMode } from "./run_mode.ts";
import { splitStatements } from "./sql_lexer.ts";
import type { Migration } from "./types.ts";

/** The tools strata imports from. */
export type ImportTool = "alembic" | "dbmate" | "golang-migrate" | "goose" | "flyway";

/** Every tool `--from` accepts, in the order help lists them. */
export const IMPORT_TOOLS: readonly ImportTool[] = [
  "alembic",
  "dbmate",
  "golang-migrate",
  "goose",
  "flyway",
];

/** One strata file a converter produced. */
export interface ConvertedFile {
  /** `<version>_<name>.up.sql` or `.down.sql`. */
  readonly name: string;
  readonly text: string;
  /** The source file (or Alembic revision) it came from. */
  readonly source: string;
}

/** A converter's result: files to write, what was changed or left out, and refusals. */
export interface Conversion {
  readonly tool: ImportTool;
  readonly files: readonly ConvertedFile[];
  /** One line each, naming the source file: changed on the way, or not carried over. */
  readonly notes: readonly string[];
  /** Why the import cannot go on; nothing is written while there is one. */
  readonly refusals: readonly string[];
}

/** A conversion that passed the check: the files as strata loads them. */
export interface CheckedConversion extends Conversion {
  readonly migrations: readonly Migration[];
}

/** Header entries of a converted file: `[key, value]`, an undefined value left out. */
export type HeaderEntries = ReadonlyArray<readonly [string, string | undefined]>;

/** A converted file's text: a provenance comment, the header, a blank line, then the body. */
export function renderFile(provenance: string, header: HeaderEntries, body: string): string {
  const sql = body.replace(/^\s*\n/, "").replace(/\s*$/, "");
  return `-- ${provenance}\n${renderHeader(header)}\n${sql === "" ? "" : sql + "\n"}`;
}

function renderHeader(entries: HeaderEntries): string {
  return entries.filter(([, v]) => v !== undefined).map(([k, v]) => `-- ${k}: ${v}\n`).join("");
}

/** One side of a converted pair: its header entries and its SQL. */
export interface PairSide {
  readonly header: HeaderEntries;
  readonly body: string;
}

/**
 * The files `<base>.up.sql` and `<base>.down.sql` made from one source
 * (`source` names it), each rendered by `renderFile` with `provenance`.
 */
export function pairFiles(
  base: string,
  pair: { provenance: string; source: string; up: PairSide; down: PairSide },
): ConvertedFile[] {
  const file = (suffix: string, side: PairSide): ConvertedFile => ({
    name: `${base}.${suffix}.sql`,
    text: renderFile(pair.provenance, side.header, side.body),
    source: pair.source,
  });
  return [file("up", pair.up), file("down", pair.down)];
}

/** How `eachSource` picks the migration files of a tool out of a directory. */
export interface SourceWalk {
  /** A migration file's name; the match goes to the callback. */
  readonly name: RegExp;
  /** What a migration file is, for the note on other files: `dbmate migration (<version>.sql)`. */
  readonly what: string;
  readonly notes: string[];
  readonly refusals: string[];
  /**
   * Called first for a name that `name` does not match: true when it took
   * care of the file (a refusal, a note, or kept it for later), false to
   * have it noted as not carried over.
   */
  readonly other?: (entry: FileEntry) => boolean;
}

/**
 * Walk `entries` in name order: a file whose name `walk.name` matches is
 * decoded (bad UTF-8 is a refusal naming it, and the file is skipped) and
 * given to `each` with the match; any other file goes to `walk.other`, or is
 * noted as `"<name>" is not a <what>: not carried over`. So every file is
 * accounted for (the invariant of a conversion).
 */
export function eachSource(
  entries: readonly FileEntry[],
  walk: SourceWalk,
  each: (entry: FileEntry, source: { text: string; match: RegExpExecArray }) => void,
): void {
  for (const entry of [...entries].sort((a, b) => a.name < b.name ? -1 : 1)) {
    const match = walk.name.exec(entry.name);
    if (!match) {
      if (walk.other?.(entry) !== true) {
        walk.notes.push(`"${entry.name}" is not a ${walk.what}: not carried over`);
      }
      continue;
    }
    const text = decodeSource(entry, walk.refusals);
    if (text !== null) each(entry, { text, match });
  }
}

/**
 * True when strata would refuse `text` without a header because it mixes
 * transaction control or no-transaction statements with other SQL: the
 * other tool ran it as written, which `-- transaction: false` keeps. False
 * for any other outcome (other problems are reported by `checkConversion`).
 */
export function needsOwnTransactions(text: string, file: string): boolean {
  try {
    const statements = splitStatements(text, { file }).filter((s) => !s.isEmpty);
    decideRunMode(text, statements, { header: parseHeader(text, file), file });
    return false;
  } catch (err) {
    return err instanceof StrataError && err.code === "RUN_MODE_REFUSED";
  }
}

/**
 * Load the converted files as strata would: every problem becomes a
 * refusal, every warning (a file without a down) a note. Throws
 * `IMPORT_UNCONVERTIBLE` listing all refusals; returns the migrations
 * otherwise (an empty list when the source held none).
 */
export async function checkConversion(conv: Conversion): Promise<CheckedConversion> {
  const encoder = new TextEncoder();
  const entries: FileEntry[] = conv.files.map((f) => ({
    name: f.name,
    bytes: encoder.encode(f.text),
  }));
  const duplicates = findDuplicateNames(conv.files);
  const { migrations, warnings, problems } = await loadMigrations(entries);
  const refusals = [
    ...conv.refusals,
    ...duplicates,
    ...problems.map((p) => `${p.message}${p.hint ? ` (${p.hint})` : ""}`),
  ];
  if (refusals.length > 0) {
    throw new StrataError(
      "IMPORT_UNCONVERTIBLE",
      `Cannot import from ${conv.tool}: ${refusals.length} problem${
        refusals.length > 1 ? "s" : ""
      }`,
      {
        details: refusals.map((r) => `- ${r}`),
        hint: "Fix the source files named (or convert them by hand); nothing was written",
      },
    );
  }
  return { ...conv, notes: [...conv.notes, ...warnings], migrations };
}

function findDuplicateNames(files: readonly ConvertedFile[]): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const f of files) {
    const other = seen.get(f.name);
    if (other !== undefined) {
      out.push(`"${other}" and "${f.source}" both become "${f.name}"`);
    }
    seen.set(f.name, f.source);
  }
  return out;
}

/** The version zero-padded to `width` digits (never shortened). */
export function padVersion(version: bigint, width: number): string {
  return version.toString().padStart(width, "0");
}

/** True when `text` holds nothing but white space and `--` comments. */
export function isOnlyComments(text: string): boolean {
  return text.split("\n").every((l) => l.trim() === "" || l.trim().startsWith("--"));
}

/** A source file's text (strict UTF-8, CRLF read as LF), or null with a refusal added. */
export function decodeSource(entry: FileEntry, refusals: string[]): string | null {
  try {
    return decodeText(entry.bytes, entry.name);
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    refusals.push(err.message);
    return null;
  }
}
