/**
 * Adoption: from another tool's version-table rows and the converted strata
 * files, the rows strata records, or every reason not to. Pure.
 *
 * What each table says is applied:
 * - dbmate `schema_migrations(version)`: one row per applied version.
 * - golang-migrate `schema_migrations(version, dirty)`: one row, the current
 *   version; every file at or below it is applied. `dirty` means that
 *   version stopped midway: it is recorded as interrupted (`started`).
 * - goose `goose_db_version`: per version, its newest row (by `id`) decides
 *   (`is_applied`); version 0 is goose's own marker.
 * - Flyway `flyway_schema_history`, in `installed_rank` order: versioned rows
 *   apply (`success = false`: interrupted), undo and delete rows revert, a
 *   baseline marks every version at or below it applied; repeatable rows
 *   (no version) are listed and skipped.
 * - Alembic `alembic_version`: the current revision; every file up to the
 *   one whose header names it is applied. Two rows are two heads: refused.
 *
 * Refused, with the list: applied versions without a file, files never
 * applied below the current version, and rows a table of that tool cannot
 * hold.
 *
 * @module
 */

import { compareFlywayParts, flywayKey, flywayParts } from "./import_flyway.ts";
import type { ImportTool } from "./import_common.ts";
import type { AdoptRow } from "./version_rows.ts";
import type { AppliedRow, Migration } from "./types.ts";

/** One row of the other tool's table, every value cast to text except booleans. */
export type ForeignRow = Readonly<Record<string, string | boolean | null>>;

/** The rows to record, or the reasons not to. */
export interface AdoptPlan {
  readonly rows: readonly AdoptRow[];
  readonly refusals: readonly string[];
  /** Rows of the other table that adoption skips on purpose (Flyway's repeatables). */
  readonly notes: readonly string[];
}

type Applied = Map<bigint, { interrupted: boolean; why?: string }>;

interface Reading {
  readonly applied: Applied;
  /** Versions the tool applied for which no converted file exists. */
  readonly unmatched: string[];
  readonly refusals: string[];
  readonly notes: string[];
}

function emptyReading(): Reading {
  return { applied: new Map(), unmatched: [], refusals: [], notes: [] };
}

/** Plan the adoption of `rows` of `tool`'s table named `tableName` against `migrations`. */
export function planAdoption(
  tool: ImportTool,
  migrations: readonly Migration[],
  rows: readonly ForeignRow[],
  tableName: string,
): AdoptPlan {
  const reading = READERS[tool](migrations, rows);
  const refusals = [...reading.refusals];
  if (reading.unmatched.length > 0) {
    refusals.push(
      `applied in ${tableName} but no file in the migrations directory: ` +
        reading.unmatched.join(", "),
    );
  }
  const top = [...reading.applied.keys()].reduce((a, b) => (b > a ? b : a), -1n);
  const gaps = migrations.filter((m) => m.version < top && !reading.applied.has(m.version));
  if (gaps.length > 0) {
    refusals.push(
      `never applied by ${tool}, below its current version: ` +
        gaps.map((m) => `"${m.upFileName}"`).join(", "),
    );
  }
  const rowsOut = migrations.filter((m) => reading.applied.has(m.version)).map((m) => {
    const a = reading.applied.get(m.version)!;
    return {
      migration: m,
      state: a.interrupted ? "started" as const : "applied" as const,
      detail: `adopted from ${tool} ${tableName}${a.why ? `: ${a.why}` : ""}`,
    };
  });
  return { rows: refusals.length ? [] : rowsOut, refusals, notes: reading.notes };
}

/**
 * How strata's own rows compare with a plan: `empty` (adopt), `same` (already
 * adopted: nothing to do) or `different` (refuse).
 */
export function compareWithStrata(
  plan: AdoptPlan,
  rows: readonly AppliedRow[],
): "empty" | "same" | "different" {
  if (rows.length === 0) return "empty";
  const want = new Map(plan.rows.map((r) => [r.migration.version, r.state]));
  const same = rows.length === want.size && rows.every((r) => want.get(r.version) === r.state);
  return same ? "same" : "different";
}

type Reader = (migrations: readonly Migration[], rows: readonly ForeignRow[]) => Reading;

function byVersion(migrations: readonly Migration[]): Map<bigint, Migration> {
  return new Map(migrations.map((m) => [m.version, m]));
}

function isDigits(v: unknown): v is string {
  return typeof v === "string" && /^\d+$/.test(v);
}

function readDbmate(migrations: readonly Migration[], rows: readonly ForeignRow[]): Reading {
  const out = emptyReading();
  const files = byVersion(migrations);
  for (const r of rows) {
    if (!isDigits(r.version)) {
      out.refusals.push(`version "${r.version}" is not a number`);
    } else if (files.has(BigInt(r.version))) {
      out.applied.set(BigInt(r.version), {
        interrupted: false,
      });
    } else out.unmatched.push(r.version);
  }
  return out;
}

/** Everything up to and including `last` applied; `last` interrupted when `why` is given. */
function upTo(out: Reading, migrations: readonly Migration[], last: Migration, why?: string) {
  for (const m of migrations) {
    if (m.version < last.version) out.applied.set(m.version, { interrupted: false });
  }
  out.applied.set(last.version, { interrupted: why !== undefined, why });
}

function readGolangMigrate(migrations: readonly Migration[], rows: readonly ForeignRow[]): Reading {
  const out = emptyReading();
  if (rows.length === 0) return out;
  if (rows.length > 1 || !isDigits(rows[0].version)) {
    out.refusals.push(
      `golang-migrate keeps one row with a version; this table has ${rows.length} ` +
        `(first version "${rows[0].version}")`,
    );
    return out;
  }
  const m = byVersion(migrations).get(BigInt(rows[0].version));
  if (!m) out.unmatched.push(rows[0].version as string);
  else upTo(out, migrations, m, rows[0].dirty === true ? "dirty (stopped midway)" : undefined);
  return out;
}

function readGoose(migrations: readonly Migration[], rows: readonly ForeignRow[]): Reading {
  const out = emptyReading();
  const files = byVersion(migrations);
  const newest = new Map<string, boolean>();
  const sorted = [...rows].sort((a, b) => Number(BigInt(String(a.id)) - BigInt(String(b.id))));
  for (const r of sorted) {
    if (!isDigits(r.version_id)) out.refusals.push(`version_id "${r.version_id}" is not a number`);
    else newest.set(r.version_id, r.is_applied === true);
  }
  for (const [version, isApplied] of newest) {
    if (!isApplied || BigInt(version) === 0n) continue;
    if (files.has(BigInt(version))) out.applied.set(BigInt(version), { interrupted: false });
    else out.unmatched.push(version);
  }
  return out;
}

const FLYWAY_APPLY = new Set(["SQL", "JDBC", "SPRING_JDBC", "SCRIPT", "CUSTOM"]);
const FLYWAY_REVERT = new Set(["UNDO_SQL", "UNDO_JDBC", "UNDO_SCRIPT", "DELETE"]);

function readFlyway(migrations: readonly Migration[], rows: readonly ForeignRow[]): Reading {
  const out = emptyReading();
  const files = new Map<string, Migration>();
  for (const m of migrations) {
    const v = m.up.header.flywayVersion;
    if (v) files.set(flywayKey(v), m);
  }
  const state = new Map<string, { failed: boolean }>();
  const sorted = [...rows].sort((a, b) => Number(a.installed_rank) - Number(b.installed_rank));
  for (const r of sorted) {
    const type = String(r.type);
    if (type === "SCHEMA") continue;
    if (r.version === null) {
      out.notes.push(`${r.script}: a repeatable migration, not adopted`);
    } else if (!/^\d+([._]\d+)*$/.test(String(r.version))) {
      out.refusals.push(`version "${r.version}" (${r.script}) is not a Flyway version`);
    } else if (type === "BASELINE") {
      const base = flywayParts(String(r.version));
      for (const [key] of files) {
        if (compareFlywayParts(flywayParts(key), base) <= 0) state.set(key, { failed: false });
      }
    } else if (FLYWAY_APPLY.has(type)) {
      state.set(flywayKey(String(r.version)), { failed: !r.success });
    } else if (FLYWAY_REVERT.has(type)) state.delete(flywayKey(String(r.version)));
    else out.refusals.push(`row of type "${type}" (${r.script}) is not one strata knows`);
  }
  for (const [key, s] of state) {
    const m = files.get(key);
    if (!m) out.unmatched.push(key);
    else {out.applied.set(m.version, {
        interrupted: s.failed,
        why: s.failed ? "failed" : undefined,
      });}
  }
  return out;
}

function readAlembic(migrations: readonly Migration[], rows: readonly ForeignRow[]): Reading {
  const out = emptyReading();
  if (rows.length > 1) {
    out.refusals.push(
      `it records ${rows.length} heads (${rows.map((r) => r.version_num).join(", ")}): ` +
        "a branched history; merge or downgrade to one head first",
    );
    return out;
  }
  if (rows.length === 0) return out;
  const revision = String(rows[0].version_num);
  const m = migrations.find((f) => f.up.header.alembicRevision === revision);
  if (!m) out.unmatched.push(`revision ${revision}`);
  else upTo(out, migrations, m);
  return out;
}

const READERS: Readonly<Record<ImportTool, Reader>> = {
  "dbmate": readDbmate,
  "golang-migrate": readGolangMigrate,
  "goose": readGoose,
  "flyway": readFlyway,
  "alembic": readAlembic,
};
