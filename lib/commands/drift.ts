/**
 * `drift`: has anyone changed the live schema by hand? Replays the versions
 * the live version table says are applied on a scratch database (embedded by
 * default), snapshots both (read-only on the live side: no lock, no write,
 * safe on a standby) and lists every difference. Also the check behind
 * `upgrade --check-drift`.
 *
 * @module
 */

import {
  compareSchemas,
  describeDrift,
  type DriftReport,
  parseIgnoreFile,
  type ReplayFailure,
} from "../core/drift.ts";
import { StrataError } from "../core/errors.ts";
import type { Snapshot } from "../core/snapshot_diff.ts";
import { findStateProblems } from "../core/state.ts";
import type { AppliedRow, Migration } from "../core/types.ts";
import { takeSnapshot } from "../db/snapshot.ts";
import { readState } from "../db/store.ts";
import type { CommandContext } from "./context.ts";
import { loadDir, planState } from "./load.ts";
import type { DRIFT_CHECK_OPTIONS, OptionValues } from "./options.ts";
import { replayOn, withScratch } from "./scratch.ts";
import { resolveConnection, withSession } from "./session.ts";

/** What a drift check found, and on what. */
export interface DriftResult extends DriftReport {
  readonly live: string;
  readonly scratch: string;
  readonly applied: number;
}

/** The options of a drift check. */
export type DriftOptions = OptionValues<typeof DRIFT_CHECK_OPTIONS>;

/** The file of ignore patterns in the migrations directory. */
const IGNORE_FILE = ".strata-drift-ignore";

/** Print every difference; exit 0 when the live schema is what the migrations make, 4 when not. */
export async function runDrift(ctx: CommandContext, options: DriftOptions): Promise<number> {
  const migrations = await loadDir(ctx, { lazy: true });
  const result = await checkDrift(ctx, migrations, options);
  if (ctx.json) ctx.io.stdout(JSON.stringify(result) + "\n");
  else ctx.io.stdout(humanReport(result));
  return result.drift.length > 0 ? 4 : 0;
}

/**
 * Replay and compare. Throws `INTERRUPTED_MIGRATION` or `DRIFT` when the
 * live version table cannot be replayed as it stands (an interrupted run, an
 * applied version whose file is gone).
 */
export async function checkDrift(
  ctx: CommandContext,
  migrations: readonly Migration[],
  options: DriftOptions,
): Promise<DriftResult> {
  const privileges = options.privileges;
  const target = await resolveConnection(ctx);
  const live = await withSession(ctx, { writable: false, lock: false, target }, async (db) => {
    const { rows } = await readState(db, ctx.table);
    return { rows, snapshot: await takeSnapshot(db, ctx.table, { privileges }) };
  });
  const { rows, edited } = planState(migrations, live.rows);
  const applied = appliedInOrder(migrations, rows, edited);
  const replay = await withScratch(ctx, options["scratch-url"], async ({ db, display }) => {
    // A migration the scratch database cannot build is reported as not compared, never drift.
    const failures: ReplayFailure[] = [];
    await replayOn(ctx, db, {
      migrations: applied,
      onFailure: (m, err) =>
        failures.push({
          version: m.versionText,
          file: m.upFileName,
          error: err.message,
          sql: m.up.text,
        }),
    });
    return { display, failures, snapshot: await takeSnapshot(db, ctx.table, { privileges }) };
  });
  const report = compareSchemas(live.snapshot, replay.snapshot as Snapshot, {
    ignore: ignorePatterns(ctx, options.ignore),
    failures: replay.failures,
  });
  return {
    ...report,
    live: target.display,
    scratch: replay.display,
    applied: applied.length,
  };
}

function appliedInOrder(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
  edited: ReadonlySet<bigint>,
): Migration[] {
  const problems = findStateProblems(migrations, rows, edited)
    .filter((p) => p.kind === "interrupted" || p.kind === "missing-file");
  if (problems.length > 0) {
    throw new StrataError(
      problems[0].kind === "interrupted" ? "INTERRUPTED_MIGRATION" : "DRIFT",
      "Cannot replay the applied migrations: the version table cannot be replayed as it stands",
      {
        details: problems.map((p) => p.message),
        hint: "Resolve it first (restore the files, or record the truth with strata stamp)",
      },
    );
  }
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  return [...rows].sort((a, b) => a.appliedOrder - b.appliedOrder)
    .map((r) => byVersion.get(r.version)!);
}

function ignorePatterns(ctx: CommandContext, flag: string | undefined): string[] {
  const fromFlag = (flag ?? "").split(",").map((p) => p.trim()).filter(Boolean);
  try {
    return [...fromFlag, ...parseIgnoreFile(Deno.readTextFileSync(`${ctx.dir}/${IGNORE_FILE}`))];
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return fromFlag;
    throw err;
  }
}

function humanReport(r: DriftResult): string {
  const lines = [
    `drift: ${r.live} against a replay of its ${r.applied} applied migrations on ${r.scratch}`,
  ];
  for (const d of r.drift) lines.push(...describeDrift(d));
  if (r.notCompared.length) {
    lines.push(
      "not compared (the replay could not build them; replay on a server that can, " +
        "with --scratch-url):",
    );
    for (const d of r.notCompared) lines.push(`  ${d.key}: ${d.reason}`);
  }
  if (r.ignored.length) lines.push(`ignored: ${r.ignored.map((d) => d.key).join(", ")}`);
  const count = (k: string) => r.drift.filter((d) => d.kind === k).length;
  lines.push(
    r.drift.length === 0
      ? `drift: none (${r.notCompared.length} not compared, ${r.ignored.length} ignored)`
      : `drift: ${r.drift.length} differences (${count("added")} added by hand, ` +
        `${count("changed")} changed, ${count("missing")} missing), ` +
        `${r.notCompared.length} not compared, ${r.ignored.length} ignored`,
  );
  return lines.join("\n") + "\n";
}
