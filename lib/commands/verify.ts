/**
 * `verify`: on a scratch database, prove that every down migration undoes its
 * up: for each migration, snapshot, upgrade one, downgrade one, compare with
 * the first snapshot, upgrade one again; then downgrade base and upgrade head.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { describePartial } from "../core/failure.ts";
import { paint } from "../core/output.ts";
import { runPlan } from "../db/runner.ts";
import { takeSnapshot } from "../db/snapshot.ts";
import { diffSnapshots } from "../core/snapshot_diff.ts";
import { ensureTables } from "../db/store.ts";
import type { Db, Migration, Plan } from "../core/types.ts";
import { STRATA_VERSION } from "../core/version.ts";
import type { OptionValues, VERIFY_OPTIONS } from "./options.ts";
import { type CommandContext } from "./context.ts";
import { loadDir } from "./load.ts";
import { withScratch } from "./scratch.ts";

type Status = "ok" | "differs" | "down-failed" | "up-failed" | "reup-failed" | "irreversible";

interface Result {
  readonly version: string;
  readonly name: string;
  readonly status: Status;
  readonly differences: readonly string[];
  readonly error: string | null;
}

/** Exit 0 when every down restores the schema, 4 otherwise. */
export async function runVerify(
  ctx: CommandContext,
  options: OptionValues<typeof VERIFY_OPTIONS>,
): Promise<number> {
  const migrations = await loadDir(ctx);
  return await withScratch(ctx, options["scratch-url"], async ({ db, display }) => {
    await ensureTables(db, { table: ctx.table, strataVersion: STRATA_VERSION });
    const results = await verifyEach(ctx, db, migrations);
    const stoppedEarly = results.length < migrations.length ||
      results.some((r) => r.status.endsWith("failed"));
    const final = stoppedEarly ? null : await roundTrip(ctx, db, migrations);
    return report(ctx, { scratch: display, results, final });
  });
}

async function verifyEach(
  ctx: CommandContext,
  db: Db,
  migrations: readonly Migration[],
): Promise<Result[]> {
  const results: Result[] = [];
  for (const m of migrations) {
    const base = {
      version: m.versionText,
      name: m.message,
      differences: [] as string[],
      error: null,
    };
    const before = await takeSnapshot(db, ctx.table);
    const up = await attempt(() => step(ctx, db, m, "up"));
    if (up) {
      results.push({ ...base, status: "up-failed", error: up });
      break;
    }
    if (!m.down) {
      results.push({ ...base, status: "irreversible" });
      continue;
    }
    const down = await attempt(() => step(ctx, db, m, "down"));
    if (down) {
      results.push({ ...base, status: "down-failed", error: down });
      continue;
    }
    const differences = diffSnapshots(before, await takeSnapshot(db, ctx.table)).map((d) => d.line);
    const reup = await attempt(() => step(ctx, db, m, "up"));
    if (differences.length) {
      // The difference is the finding; a re-upgrade that then trips over it is a consequence.
      const error = reup
        ? `upgrading again then failed, so later migrations were not verified:\n${reup}`
        : null;
      results.push({ ...base, status: "differs", differences, error });
      if (reup) break;
      continue;
    }
    if (reup) {
      results.push({ ...base, status: "reup-failed", error: reup });
      break;
    }
    results.push({ ...base, status: "ok" });
  }
  return results;
}

/** `downgrade base` (or down to the last irreversible one) and `upgrade head` once more. */
async function roundTrip(
  ctx: CommandContext,
  db: Db,
  migrations: readonly Migration[],
): Promise<{ ok: boolean; error: string | null; stoppedAt: string | null }> {
  const reversible: Migration[] = [];
  for (const m of [...migrations].reverse()) {
    if (!m.down) break;
    reversible.push(m);
  }
  const stoppedAt = reversible.length < migrations.length
    ? migrations[migrations.length - reversible.length - 1].versionText
    : null;
  const downPlan: Plan = {
    direction: "down",
    steps: reversible.map((migration) => ({ kind: "down", migration })),
    from: null,
    to: null,
  };
  const upPlan: Plan = {
    direction: "up",
    steps: [...reversible].reverse().map((migration) => ({ kind: "up", migration })),
    from: null,
    to: null,
  };
  const error = await attempt(async () => {
    await runPlan(db, downPlan, runOptions(ctx));
    await runPlan(db, upPlan, runOptions(ctx));
  });
  return { ok: error === null, error, stoppedAt };
}

function runOptions(ctx: CommandContext) {
  return { table: ctx.table, strataVersion: STRATA_VERSION, dir: ctx.dir, lockRetries: 0 };
}

async function step(ctx: CommandContext, db: Db, m: Migration, kind: "up" | "down"): Promise<void> {
  const plan: Plan = { direction: kind, steps: [{ kind, migration: m }], from: null, to: null };
  await runPlan(db, plan, runOptions(ctx));
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

function report(
  ctx: CommandContext,
  r: {
    scratch: string;
    results: readonly Result[];
    final: { ok: boolean; error: string | null; stoppedAt: string | null } | null;
  },
): number {
  const failed = r.results.filter((x) => x.status !== "ok" && x.status !== "irreversible");
  const ok = failed.length === 0 && (r.final?.ok ?? false);
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify({ scratch: r.scratch, ok, migrations: r.results, final: r.final }) + "\n",
    );
    return ok ? 0 : 4;
  }
  for (const x of r.results) {
    const label = `${x.version}  ${x.name}`;
    const mark = x.status === "ok"
      ? paint("ok  ", "green", ctx.color)
      : x.status === "irreversible"
      ? "skip"
      : paint("FAIL", "red", ctx.color);
    ctx.io.stdout(`${mark}  ${label}${describe(x)}\n`);
    for (const d of x.differences) ctx.io.stdout(`        - ${d}\n`);
    if (x.error) ctx.io.stdout(x.error.split("\n").map((l) => `        ${l}\n`).join(""));
  }
  if (r.final) {
    const what = r.final.stoppedAt
      ? `downgrade to ${r.final.stoppedAt} (irreversible below) and upgrade head`
      : "downgrade base and upgrade head";
    ctx.io.stdout(`${r.final.ok ? "ok  " : "FAIL"}  ${what}\n`);
    if (r.final.error) {
      ctx.io.stdout(r.final.error.split("\n").map((l) => `        ${l}\n`).join(""));
    }
  }
  const skipped = r.results.filter((x) => x.status === "irreversible").length;
  ctx.io.stdout(
    `verify: ${r.results.length} migrations, ${
      r.results.length - failed.length - skipped
    } ok, ${failed.length} failed, ` +
      `${skipped} skipped (irreversible) on ${r.scratch}\n`,
  );
  return ok ? 0 : 4;
}

function describe(x: Result): string {
  switch (x.status) {
    case "ok":
      return "";
    case "irreversible":
      return ": irreversible (no down file), skipped";
    case "differs":
      return ": its down leaves the schema different from before its up";
    case "down-failed":
      return ": its down failed";
    case "up-failed":
      return ": its up failed; later migrations were not verified";
    case "reup-failed":
      return ": upgrading again after its down failed; later migrations were not verified";
  }
}
