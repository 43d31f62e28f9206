/**
 * Where the database stands against the files: the current version, and
 * every disagreement (edited or missing applied files, interrupted runs,
 * out-of-order pending versions). Pure.
 *
 * @module
 */

import { findEdited } from "./checksum.ts";
import { compareBig } from "./files.ts";
import type { AppliedRow, Migration } from "./types.ts";

/** Something the database and the files disagree about. */
export interface StateProblem {
  readonly kind: "drift" | "missing-file" | "interrupted" | "out-of-order";
  readonly version: bigint;
  readonly message: string;
  /** For `interrupted`: which way the migration was going. */
  readonly direction?: "up" | "down";
}

/** The highest applied version, or null at base. */
export function currentVersion(applied: readonly AppliedRow[]): bigint | null {
  let max: bigint | null = null;
  for (const r of applied) if (max === null || r.version > max) max = r.version;
  return max;
}

/**
 * Every disagreement between the applied rows and the files, in version
 * order. `edited` holds the versions whose checksum no longer matches
 * (`findEdited`, which knows older checksum algorithms and the file-hash
 * shortcut; computed here when the caller has not already).
 */
export function findStateProblems(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  edited: ReadonlySet<bigint> = findEdited(migrations, applied),
): StateProblem[] {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const problems: StateProblem[] = [];
  for (const row of [...applied].sort((a, b) => compareBig(a.version, b.version))) {
    const m = byVersion.get(row.version);
    const label = m ? `"${m.upFileName}"` : `version ${row.version} (${row.name})`;
    if (row.state !== "applied") {
      const way = row.state === "reverting" ? "being reverted" : "being applied";
      problems.push({
        kind: "interrupted",
        version: row.version,
        message: `${label} was interrupted while ${way}, at statement ` +
          `${(row.statementIndex ?? 0) + 1} of its ${
            row.state === "reverting" ? "down" : "up"
          } file`,
        direction: row.state === "reverting" ? "down" : "up",
      });
    }
    if (!m) {
      problems.push({
        kind: "missing-file",
        version: row.version,
        message: `${label} is applied but its file is gone`,
      });
    } else if (edited.has(row.version)) {
      problems.push({
        kind: "drift",
        version: row.version,
        message: `${label} was edited after it was applied (checksum differs)`,
      });
    }
  }
  return problems;
}

/** Display text for a version: the file's spelling when there is one. */
export function versionLabel(migrations: readonly Migration[], v: bigint | null): string {
  if (v === null) return "base";
  return migrations.find((m) => m.version === v)?.versionText ?? String(v);
}

/** Pending migrations below the highest applied version (a merge of two branches), in order. */
export function findOutOfOrder(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
): Migration[] {
  const current = currentVersion(applied);
  if (current === null) return [];
  const done = new Set(applied.map((r) => r.version));
  return migrations.filter((m) => !done.has(m.version) && m.version < current);
}

/** Every disagreement `status` and `validate` report: state problems, then out-of-order pending. */
export function findAllProblems(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  edited?: ReadonlySet<bigint>,
): StateProblem[] {
  return [
    ...findStateProblems(migrations, applied, edited),
    ...findOutOfOrder(migrations, applied).map((m) => ({
      kind: "out-of-order" as const,
      version: m.version,
      message: `"${m.upFileName}" is pending below the current version`,
    })),
  ];
}
