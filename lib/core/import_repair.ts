/**
 * `repair VERSION...`: accept on purpose the edits made to applied files, by
 * re-recording their checksums. Only the versions named are touched: there is
 * no "accept everything". Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { compareBig } from "./files.ts";
import { findMigration } from "./plan.ts";
import type { AppliedRow, Migration } from "./types.ts";
import type { RepairChange } from "./version_rows.ts";

/** What `repair` will do: checksums to re-record, and named versions already matching. */
export interface RepairPlan {
  readonly changes: readonly RepairChange[];
  readonly unchanged: readonly Migration[];
}

/**
 * Plan a repair of `versions` (as typed: `7` finds `0007`), which passed
 * `checkRepairVersions`. `edited` holds the versions whose applied checksum
 * no longer matches (from `findEdited`). Throws `UNKNOWN_TARGET` for a
 * version with no file or not applied, and `INTERRUPTED_MIGRATION` for an
 * interrupted one (that is `stamp`'s job).
 */
export function planRepair(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  options: { versions: readonly string[]; edited: ReadonlySet<bigint> },
): RepairPlan {
  const rows = new Map(applied.map((r) => [r.version, r]));
  const chosen = new Map<bigint, Migration>();
  for (const text of options.versions) {
    const m = findApplied(migrations, rows, text);
    chosen.set(m.version, m);
  }
  const sorted = [...chosen.values()].sort((a, b) => compareBig(a.version, b.version));
  return {
    changes: sorted.filter((m) => options.edited.has(m.version)).map((m) => ({
      migration: m,
      before: rows.get(m.version)!.checksum,
    })),
    unchanged: sorted.filter((m) => !options.edited.has(m.version)),
  };
}

/** Throw `USAGE` when `versions` is empty or one is not a number (before anything connects). */
export function checkRepairVersions(versions: readonly string[]): void {
  if (versions.length === 0) {
    throw new StrataError("USAGE", "Cannot repair: no versions given", {
      hint: "Name each applied version whose edited file you checked, e.g. strata repair 0007; " +
        "repair never accepts every edit at once",
    });
  }
  const bad = versions.find((v) => !/^\d+$/.test(v.trim()));
  if (bad !== undefined) {
    throw new StrataError("USAGE", `Cannot repair "${bad}": not a version`, {
      hint: "Give applied versions, e.g. strata repair 0007 0009",
    });
  }
}

function findApplied(
  migrations: readonly Migration[],
  rows: ReadonlyMap<bigint, AppliedRow>,
  text: string,
): Migration {
  const target = { version: BigInt(text.trim()), text: text.trim() };
  const row = rows.get(target.version);
  if (row && !migrations.some((f) => f.version === target.version)) {
    throw new StrataError("UNKNOWN_TARGET", `Cannot repair ${target.text}: no such version`, {
      hint: "Its file is gone: restore it; repair re-records the checksum of a file that exists",
    });
  }
  const m = findMigration(migrations, target, "repair");
  if (!row) {
    throw new StrataError("UNKNOWN_TARGET", `Cannot repair ${m.versionText}: it is not applied`, {
      hint: "repair re-records checksums of applied migrations; a pending one has none",
    });
  }
  if (row.state !== "applied") {
    throw new StrataError(
      "INTERRUPTED_MIGRATION",
      `Cannot repair ${m.versionText}: it was interrupted (${row.state})`,
      { hint: `Resolve it with strata stamp first (see strata status)` },
    );
  }
  return m;
}
