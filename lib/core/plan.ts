/**
 * From (migrations, applied rows, target) compute the ordered steps of an
 * upgrade or a downgrade, or a precise error; `plan_stamp.ts` plans the row
 * changes of `stamp`. Pure: no database, no files.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { compareBig } from "./files.ts";
import { currentVersion, findStateProblems, type StateProblem, versionLabel } from "./state.ts";
import type { AppliedRow, Migration, Plan, Step } from "./types.ts";

/** Where a command should take the database. */
export type Target =
  | { readonly kind: "head" }
  | { readonly kind: "base" }
  | { readonly kind: "version"; readonly version: bigint; readonly text: string }
  | { readonly kind: "relative"; readonly steps: number };

/** Escape hatches for the database-disagrees-with-files checks. */
export interface PlanOptions {
  readonly allowDrift?: boolean;
  readonly allowOutOfOrder?: boolean;
  /** Versions whose applied file was edited (from `findEdited`); see `findStateProblems`. */
  readonly edited?: ReadonlySet<bigint>;
}

/**
 * Parse a target for `verb`. upgrade: head | VERSION | +N; downgrade:
 * VERSION | -N | base. Throws `USAGE` for anything else.
 */
export function parseTarget(text: string, verb: "upgrade" | "downgrade" | "stamp"): Target {
  const t = text.trim().toLowerCase();
  if (verb !== "downgrade" && t === "head") return { kind: "head" };
  if (verb !== "upgrade" && t === "base") return { kind: "base" };
  if (verb === "stamp" && /^\d+$/.test(t)) return { kind: "version", version: BigInt(t), text: t };
  if (verb === "stamp") {
    throw new StrataError("USAGE", `Cannot stamp "${text}": not a target`, {
      hint: "The target of stamp is head, base, or a version such as 0003",
    });
  }
  const rel = verb === "upgrade" ? /^\+(\d+)$/.exec(t) : /^-(\d+)$/.exec(t);
  if (rel && Number(rel[1]) > 0) return { kind: "relative", steps: Number(rel[1]) };
  if (/^\d+$/.test(t)) return { kind: "version", version: BigInt(t), text: t };
  const forms = verb === "upgrade"
    ? "head, a version such as 0003, or +N"
    : "base, a version such as 0003, or -N";
  const zero = /^[+-]0+$/.test(t);
  throw new StrataError("USAGE", `Cannot ${verb} to "${text}": not a target`, {
    hint: `The target of ${verb} is ${forms}` +
      (zero
        ? `; "${text}" is no step at all: give ${verb === "upgrade" ? "+1" : "-1"} or more ` +
          "(strata status shows what is pending and applied)"
        : t === "head" || t === "base" || /^[+-]\d+$/.test(t)
        ? `; "${text}" belongs to ${verb === "upgrade" ? "downgrade" : "upgrade"}`
        : ""),
  });
}

function refuseStateProblems(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  options: PlanOptions,
): void {
  const problems = findStateProblems(migrations, applied, options.edited);
  const interrupted = problems.filter((p) => p.kind === "interrupted");
  if (interrupted.length > 0) {
    const first = interrupted[0];
    throw new StrataError(
      "INTERRUPTED_MIGRATION",
      `Cannot run: a statement-by-statement migration was interrupted while ` +
        (first.direction === "down" ? "being reverted (downgrade)" : "being applied (upgrade)"),
      {
        details: interrupted.map((p) => p.message),
        hint: interruptedHint(migrations, first),
      },
    );
  }
  const drift = problems.filter((p) => p.kind !== "interrupted");
  if (drift.length > 0 && !options.allowDrift) {
    throw new StrataError(
      "DRIFT",
      `Cannot run: ${drift.length} applied migration${
        drift.length > 1 ? "s differ" : " differs"
      } ` +
        `from the files`,
      {
        details: drift.map((p) => p.message),
        hint: "Restore the files as they were applied, or pass --allow-drift to proceed anyway",
      },
    );
  }
}

/** The stamp commands that record the truth after an interruption, for its direction. */
function interruptedHint(migrations: readonly Migration[], p: StateProblem): string {
  const v = versionLabel(migrations, p.version);
  const index = migrations.findIndex((m) => m.version === p.version);
  const before = index > 0 ? migrations[index - 1].versionText : "base";
  const check = "Check what it left behind and finish or undo it by hand, then record the truth: ";
  return p.direction === "down"
    ? check + `"strata stamp ${before}" if its down file finished (${v} is reverted), or ` +
      `"strata stamp ${v}" if you restored what it had undone (${v} stays applied)`
    : check + `"strata stamp ${v}" if its up file finished (${v} is applied), or ` +
      `"strata stamp ${before}" if you undid what it had done (${v} is not applied)`;
}

/**
 * Plan an upgrade. Throws `UNKNOWN_TARGET`, `WRONG_DIRECTION` (naming
 * `downgrade`), `INTERRUPTED_MIGRATION`, `DRIFT` or `OUT_OF_ORDER`. An empty
 * plan means there is nothing to do.
 */
export function planUpgrade(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  target: Target,
  options: PlanOptions = {},
): Plan {
  refuseStateProblems(migrations, applied, options);
  const current = currentVersion(applied);
  const chosen = chooseUpgrade(migrations, applied, target);
  refuseOutOfOrder(chosen, current, migrations, options);
  const steps: Step[] = chosen.map((migration) => ({ kind: "up", migration }));
  const last = chosen.at(-1)?.version ?? null;
  const to = current === null || (last !== null && last > current) ? last : current;
  return { direction: "up", steps, from: current, to };
}

/** The pending migrations an upgrade to `target` applies, in order. */
function chooseUpgrade(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  target: Target,
): Migration[] {
  const current = currentVersion(applied);
  const done = new Set(applied.map((r) => r.version));
  const pending = migrations.filter((m) => !done.has(m.version));
  if (target.kind === "head") return pending;
  if (target.kind === "relative") {
    if (pending.length < target.steps) throw tooFewPending(target.steps, pending.length);
    return pending.slice(0, target.steps);
  }
  if (target.kind === "version") {
    const m = findMigration(migrations, target, "upgrade to");
    if (current !== null && m.version < current && done.has(m.version)) {
      throw wrongDirection("upgrade", m.versionText, versionLabel(migrations, current));
    }
    return pending.filter((p) => p.version <= m.version);
  }
  throw new StrataError("USAGE", 'Cannot upgrade to "base"', {
    hint: 'Use "strata downgrade base"',
  });
}

function tooFewPending(steps: number, pending: number): StrataError {
  return new StrataError(
    "UNKNOWN_TARGET",
    `Cannot upgrade +${steps}: only ${pending} migration` +
      `${pending === 1 ? " is" : "s are"} pending`,
    {
      hint: pending ? `Run "strata upgrade +${pending}" or "strata upgrade head"` : undefined,
    },
  );
}

function refuseOutOfOrder(
  chosen: readonly Migration[],
  current: bigint | null,
  migrations: readonly Migration[],
  options: PlanOptions,
): void {
  if (current === null || options.allowOutOfOrder) return;
  const early = chosen.filter((m) => m.version < current);
  if (early.length === 0) return;
  throw new StrataError(
    "OUT_OF_ORDER",
    `Cannot upgrade: ${early.length} pending migration${early.length > 1 ? "s are" : " is"} ` +
      `below the current version ${versionLabel(migrations, current)}`,
    {
      details: early.map((m) => `"${m.upFileName}" is pending`),
      hint: "Two branches probably added migrations at once. Renumber them above the current " +
        "version, or pass --allow-out-of-order to apply them as they are",
    },
  );
}

/**
 * Plan a downgrade. Throws `UNKNOWN_TARGET`, `WRONG_DIRECTION` (naming
 * `upgrade`), `IRREVERSIBLE` (before anything runs), `INTERRUPTED_MIGRATION`
 * or `DRIFT` (also for an applied migration whose file is gone).
 */
export function planDowngrade(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  target: Target,
  options: PlanOptions = {},
): Plan {
  refuseStateProblems(migrations, applied, options);
  const current = currentVersion(applied);
  const desc = [...applied].sort((a, b) => compareBig(b.version, a.version));
  let rows: AppliedRow[];
  if (target.kind === "base") {
    rows = desc;
  } else if (target.kind === "relative") {
    if (desc.length < target.steps) {
      throw new StrataError(
        "UNKNOWN_TARGET",
        `Cannot downgrade -${target.steps}: only ${desc.length} migration` +
          `${desc.length === 1 ? " is" : "s are"} applied`,
        { hint: desc.length ? `Run "strata downgrade base" to revert all of them` : undefined },
      );
    }
    rows = desc.slice(0, target.steps);
  } else if (target.kind === "version") {
    const known = migrations.some((m) => m.version === target.version) ||
      applied.some((r) => r.version === target.version);
    if (!known) findMigration(migrations, target, "downgrade to");
    if (current === null || target.version > current) {
      throw wrongDirection("downgrade", target.text, versionLabel(migrations, current));
    }
    rows = desc.filter((r) => r.version > target.version);
  } else {
    throw new StrataError("USAGE", 'Cannot downgrade to "head"', {
      hint: 'Use "strata upgrade head"',
    });
  }
  const steps = rows.map((row) => downStep(migrations, row));
  const remaining = desc.filter((r) => !rows.includes(r));
  return { direction: "down", steps, from: current, to: currentVersion(remaining) };
}

function downStep(migrations: readonly Migration[], row: AppliedRow): Step {
  const m = migrations.find((x) => x.version === row.version);
  if (!m) {
    throw new StrataError(
      "DRIFT",
      `Cannot downgrade version ${row.version} (${row.name}): its files are gone`,
      { hint: "Restore its .up.sql and .down.sql files, or record the state with strata stamp" },
    );
  }
  if (m.downFileName === null) {
    throw new StrataError(
      "IRREVERSIBLE",
      `Cannot downgrade past "${m.upFileName}": it has no down file`,
      {
        file: m.upFileName,
        hint: `Nothing was run. Write "${m.versionText}_${m.name}.down.sql" (an empty file is an ` +
          `explicit no-op), or choose a target at or above ${m.versionText}`,
      },
    );
  }
  return { kind: "down", migration: m };
}

/**
 * The migration at `target.version`. Throws `UNKNOWN_TARGET` ("Cannot
 * ACTION ...", e.g. "Cannot upgrade to 9") listing the known versions when there is none.
 */
export function findMigration(
  migrations: readonly Migration[],
  target: { version: bigint; text: string },
  action: string,
): Migration {
  const m = migrations.find((x) => x.version === target.version);
  if (m) return m;
  const versions = migrations.map((x) => x.versionText);
  throw new StrataError("UNKNOWN_TARGET", `Cannot ${action} ${target.text}: no such version`, {
    hint: versions.length
      ? `Known versions: ${
        versions.length > 8
          ? versions.slice(0, 4).concat("…", versions.slice(-3)).join(", ")
          : versions.join(", ")
      }`
      : "The migrations directory has no migrations",
  });
}

function wrongDirection(verb: "upgrade" | "downgrade", to: string, current: string): StrataError {
  const right = verb === "upgrade" ? "downgrade" : "upgrade";
  const relation = verb === "upgrade" ? "below" : "above";
  return new StrataError(
    "WRONG_DIRECTION",
    `Cannot ${verb} to ${to}: it is ${relation} the current version ${current}`,
    { hint: `To go there, run "strata ${right} ${to}"` },
  );
}
