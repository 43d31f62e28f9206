/**
 * Squash baselines: turn a pg_dump of a replayed chain into a migration file
 * strata can run, and, at run time, let a baseline stand for the versions it
 * replaced. Pure.
 *
 * A baseline is the up file of version V with the header `baseline: true`:
 * it replaces every migration up to and including V (their files moved to
 * `squashed/`). A fresh database runs only the baseline. A database already
 * at or past V has rows for the old versions: those rows are read as the
 * baseline's one row (`resolveBaseline`), and the first writing command
 * records that, without running any SQL (`version_rows.ts`
 * renderBaselineRecord).
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import type { AppliedRow, Migration } from "./types.ts";

/** pg_dump settings a baseline keeps: the rest are psql's or the dumping server's business. */
const KEPT_SETTINGS = /^(SELECT pg_catalog\.set_config\('search_path'|SET check_function_bodies)/;

/**
 * A pg_dump script (plain format, `--inserts`) made fit to be a migration:
 * psql meta-commands (`\restrict`, `\connect`) and session settings other
 * than search_path and check_function_bodies dropped, dump comments and runs
 * of blank lines folded away.
 */
export function cleanDump(dump: string): string {
  const out: string[] = [];
  for (const line of dump.replace(/\r\n?/g, "\n").split("\n")) {
    if (line.startsWith("\\")) continue;
    if (/^SET [a-z_]+ = /.test(line) && !KEPT_SETTINGS.test(line)) continue;
    if (/^SELECT pg_catalog\.set_config\(/.test(line) && !KEPT_SETTINGS.test(line)) continue;
    if (/^-- (Dumped (from|by)|PostgreSQL database dump)/.test(line)) continue;
    if (line === "--") continue;
    if (line === "" && out.at(-1) === "") continue;
    out.push(line);
  }
  return out.join("\n").trim() + "\n";
}

/** The text of a baseline file for `through`, replacing the versions `covered`. */
export function renderBaselineFile(
  sql: string,
  info: { through: string; covered: readonly string[]; created: string; dumper: string },
): string {
  const first = info.covered[0];
  return `-- message: baseline of ${first} to ${info.through} (squashed)\n` +
    "-- baseline: true\n" +
    `-- created: ${info.created}\n` +
    `-- Made by strata squash with ${info.dumper} from a replay of ${info.covered.join(", ")};\n` +
    "-- their files are in squashed/. A database at or past this version records it without\n" +
    "-- running it. Editing it changes its checksum.\n\n" + sql;
}

/** The baseline among the migrations (the highest one, when there are several). */
export function findBaseline(migrations: readonly Migration[]): Migration | undefined {
  return [...migrations].reverse().find((m) => m.isBaseline);
}

/** The applied state as a baseline sees it, and whether that must be recorded. */
export interface BaselineView {
  /** The rows to plan with: the squashed versions' rows read as the baseline's. */
  readonly rows: readonly AppliedRow[];
  /** The rows the baseline replaces in the version table (empty: nothing to record). */
  readonly replaced: readonly AppliedRow[];
  readonly baseline?: Migration;
}

/**
 * Read `rows` through the baseline: when the database has rows at or below
 * the baseline's version that are not the baseline's own record (the
 * database was migrated before the squash), they stand for the baseline.
 * Without a baseline, or when it is already recorded, `rows` is unchanged.
 */
export function resolveBaseline(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
): BaselineView {
  const baseline = findBaseline(migrations);
  if (!baseline) return { rows, replaced: [] };
  const covered = rows.filter((r) => r.version <= baseline.version);
  // The baseline's own record: its version and its name (squash names it "baseline"). Its
  // checksum is left to findEdited, so an edited baseline is refused as drift, not re-recorded.
  const own = covered.length === 1 && covered[0].version === baseline.version &&
    covered[0].name === baseline.name;
  // An interrupted row is left as it is, so that it is refused and resolved first.
  const interrupted = covered.some((r) => r.state !== "applied");
  if (covered.length === 0 || own || interrupted) return { rows, replaced: [], baseline };
  if (!covered.some((r) => r.version === baseline.version)) {
    const at = covered.reduce((a, b) => (a.version > b.version ? a : b));
    throw new StrataError(
      "DRIFT",
      `Cannot use the baseline "${baseline.upFileName}": this database is at version ` +
        `${at.version}, below the baseline`,
      {
        details: [
          "the baseline replaces migrations this database has not all applied; their files " +
          "are in squashed/",
        ],
        hint: `Bring it to ${baseline.versionText} with the files from before the squash (for ` +
          "example from version control), then upgrade with the baseline; nothing was run",
      },
    );
  }
  const newest = covered.reduce((a, b) => (a.appliedOrder > b.appliedOrder ? a : b));
  const record: AppliedRow = {
    ...newest,
    version: baseline.version,
    name: baseline.name,
    checksum: baseline.checksum,
  };
  const above = rows.filter((r) => r.version > baseline.version);
  return { rows: [record, ...above], replaced: covered, baseline };
}
