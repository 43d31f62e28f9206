/**
 * `verify`: on a scratch database, prove that every down migration undoes its
 * up: for each migration, snapshot, upgrade one, downgrade one, compare with
 * the first snapshot, upgrade one again; then downgrade base and upgrade
 * head. After a defect that leaves the scratch database in an unknown state
 * (a failing down, a failing re-upgrade), a fresh scratch database is built
 * up to and including that migration and the check goes on, so one run names
 * every defective migration.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { describePartial } from "../core/failure.ts";
import { diffSnapshots } from "../core/snapshot_diff.ts";
import type { Db, Migration } from "../core/types.ts";
import { runPlan } from "../db/runner.ts";
import { takeSnapshot } from "../db/snapshot.ts";
import type { CommandContext } from "./context.ts";
import { loadDir } from "./load.ts";
import type { OptionValues, VERIFY_OPTIONS } from "./options.ts";
import { planOf, replayOn, scratchRunOptions, withScratch } from "./scratch.ts";
import {
  printVerifyReport,
  type RoundTrip,
  type VerifyEntry,
  type VerifyReport,
} from "./verify_report.ts";

/** Where a scratch database's run ended: the next migration to check, or done. */
interface Segment {
  readonly results: VerifyEntry[];
  /** Index of the next migration to check on a fresh database; null when finished. */
  readonly next: number | null;
  readonly final: RoundTrip | null;
}

/** Print what `verifyMigrations` found; exit 0 when every down restores the schema, 4 otherwise. */
export async function runVerify(
  ctx: CommandContext,
  options: OptionValues<typeof VERIFY_OPTIONS>,
): Promise<number> {
  return printVerifyReport(ctx, await verifyMigrations(ctx, options));
}

/**
 * Verify every migration on scratch databases made from `--scratch-url`.
 * A defect is a finding in the report (`ok` false), never thrown; throws
 * `StrataError` only when the run cannot happen (the migrations cannot be
 * loaded, the scratch database cannot be made).
 */
export async function verifyMigrations(
  ctx: CommandContext,
  options: OptionValues<typeof VERIFY_OPTIONS>,
): Promise<VerifyReport> {
  const migrations = await loadDir(ctx);
  const results: VerifyEntry[] = [];
  let start: number | null = 0;
  let restarts = -1;
  let final: RoundTrip | null = null;
  let scratch = "";
  while (start !== null) {
    const from: number = start;
    restarts++;
    const segment = await withScratch(ctx, options["scratch-url"], async ({ db, display }) => {
      scratch = display;
      await replayOn(ctx, db, { migrations: migrations.slice(0, from) });
      return await verifyFrom(ctx, db, { migrations, from, clean: results.length === 0 });
    });
    results.push(...segment.results);
    final = segment.final;
    start = segment.next;
  }
  const ok = results.every((x) => x.status === "ok" || x.status === "irreversible") &&
    (final?.ok ?? false);
  return { scratch, ok, migrations: results, final, restarts };
}

/**
 * Check migrations from index `from` on `db` (where everything before it is
 * applied). Returns early with `next` when the database must be rebuilt.
 */
async function verifyFrom(
  ctx: CommandContext,
  db: Db,
  run: { migrations: readonly Migration[]; from: number; clean: boolean },
): Promise<Segment> {
  const { migrations } = run;
  const results: VerifyEntry[] = [];
  for (let i = run.from; i < migrations.length; i++) {
    const { entry, rebuild } = await verifyOne(ctx, db, migrations[i]);
    results.push(entry);
    if (entry.status === "up-failed") {
      results.push(...migrations.slice(i + 1).map((m) => skipped(m)));
      return { results, next: null, final: null };
    }
    if (rebuild) return { results, next: i + 1 < migrations.length ? i + 1 : null, final: null };
  }
  const clean = run.clean && results.every((r) => r.status === "ok" || r.status === "irreversible");
  return { results, next: null, final: clean ? await roundTrip(ctx, db, migrations) : null };
}

function skipped(m: Migration): VerifyEntry {
  return {
    version: m.versionText,
    name: m.message,
    status: "not-verified",
    differences: [],
    error: null,
  };
}

/** Up, down, compare, up again; `rebuild` when the database state is no longer known. */
async function verifyOne(
  ctx: CommandContext,
  db: Db,
  m: Migration,
): Promise<{ entry: VerifyEntry; rebuild: boolean }> {
  const base = { version: m.versionText, name: m.message, differences: [], error: null };
  const before = await takeSnapshot(db, ctx.table);
  const up = await attempt(() => step(ctx, db, m, "up"));
  if (up) return { entry: { ...base, status: "up-failed", error: up }, rebuild: false };
  if (!m.down) return { entry: { ...base, status: "irreversible" }, rebuild: false };
  const down = await attempt(() => step(ctx, db, m, "down"));
  if (down) return { entry: { ...base, status: "down-failed", error: down }, rebuild: true };
  const differences = diffSnapshots(before, await takeSnapshot(db, ctx.table)).map((d) => d.line);
  const reup = await attempt(() => step(ctx, db, m, "up"));
  if (differences.length) {
    // The difference is the finding; a re-upgrade that then trips over it is a consequence.
    const error = reup ? `upgrading again then failed:\n${reup}` : null;
    return { entry: { ...base, status: "differs", differences, error }, rebuild: reup !== null };
  }
  if (reup) return { entry: { ...base, status: "reup-failed", error: reup }, rebuild: true };
  return { entry: { ...base, status: "ok" }, rebuild: false };
}

/** `downgrade base` (or down to the last irreversible one) and `upgrade head` once more. */
async function roundTrip(
  ctx: CommandContext,
  db: Db,
  migrations: readonly Migration[],
): Promise<RoundTrip> {
  const reversible: Migration[] = [];
  for (const m of [...migrations].reverse()) {
    if (!m.down) break;
    reversible.push(m);
  }
  const stoppedAt = reversible.length < migrations.length
    ? migrations[migrations.length - reversible.length - 1].versionText
    : null;
  const error = await attempt(async () => {
    await runPlan(db, planOf("down", reversible), scratchRunOptions(ctx));
    await runPlan(db, planOf("up", [...reversible].reverse()), scratchRunOptions(ctx));
  });
  return { ok: error === null, error, stoppedAt };
}

async function step(ctx: CommandContext, db: Db, m: Migration, kind: "up" | "down"): Promise<void> {
  await runPlan(db, planOf(kind, [m]), scratchRunOptions(ctx));
}

async function attempt(fn: () => Promise<void>): Promise<string | null> {
  try {
    await fn();
    return null;
  } catch (err) {
    if (!(err instanceof StrataError)) throw err;
    // What was and was not applied is in `partial`; the lines about it would only repeat it.
    const summary = new Set(err.partial ? describePartial(err.partial) : []);
    return [err.message, ...err.details.filter((d) => !summary.has(d))].join("\n");
  }
}
