/**
 * Plans that record rows without running any migration: `stamp` (which
 * rows to add, remove and mark applied so that the table says the database
 * is at a target) and the rows `--dry-run --from` assumes. Pure: no
 * database, no files.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { compareBig } from "./files.ts";
import { findMigration, type Target } from "./plan.ts";
import type { AppliedRow, Migration } from "./types.ts";

/** The row changes `stamp` makes: rows to add, to remove, and interrupted rows to mark applied. */
export interface StampChange {
  readonly add: readonly Migration[];
  readonly remove: readonly AppliedRow[];
  readonly resolve: readonly Migration[];
  readonly to: bigint | null;
}

/**
 * Plan `stamp`: afterwards exactly the migrations at or below the target are
 * recorded as applied (rows above it are removed, interrupted rows at or
 * below it become applied). No SQL of any file runs. Drift is not checked:
 * stamp is how a person records the truth. Throws `UNKNOWN_TARGET`.
 */
export function planStamp(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  target: Target,
): StampChange {
  let limit: bigint | null;
  if (target.kind === "base") limit = null;
  else if (target.kind === "head") limit = migrations.at(-1)?.version ?? null;
  else if (target.kind === "version") limit = findMigration(migrations, target, "stamp to").version;
  else throw new StrataError("USAGE", "Cannot stamp a relative target", { hint: "Give a version" });
  const within = (v: bigint) => limit !== null && v <= limit;
  const byVersion = new Map(applied.map((r) => [r.version, r]));
  return {
    add: migrations.filter((m) => within(m.version) && !byVersion.has(m.version)),
    remove: [...applied].filter((r) => !within(r.version)).sort((a, b) =>
      compareBig(b.version, a.version)
    ),
    resolve: migrations.filter((m) => {
      const state = byVersion.get(m.version)?.state;
      return within(m.version) && (state === "started" || state === "reverting");
    }),
    to: limit,
  };
}

/**
 * Applied rows as they would be if exactly the migrations up to `from` had
 * run (for `--dry-run --from`, which makes no connection). `from` is `base`
 * or a version; throws `UNKNOWN_TARGET` for an unknown version.
 */
export function assumeApplied(migrations: readonly Migration[], from: string): AppliedRow[] {
  const t = from.trim().toLowerCase();
  if (t !== "base" && !/^\d+$/.test(t)) {
    throw new StrataError("USAGE", `Cannot use --from "${from}": not a version`, {
      hint: "Give --from base, or the version the database is at, e.g. --from 0003",
    });
  }
  const limit = t === "base"
    ? null
    : findMigration(migrations, { version: BigInt(t), text: from }, "start from").version;
  return migrations.filter((m) => limit !== null && m.version <= limit).map((m, i) => ({
    version: m.version,
    name: m.name,
    // Read only if something compares it: an offline script needs no file lexed to be planned.
    get checksum() {
      return m.checksum;
    },
    state: "applied",
    statementIndex: null,
    appliedOrder: i + 1,
    appliedAt: new Date(0),
    executionMs: null,
    appliedBy: "",
    strataVersion: "",
    fileHash: null,
  }));
}
