/**
 * `lint --trace`: replay the walk on a scratch database and watch what
 * PostgreSQL really does. Files walked for facts are applied as `upgrade`
 * would; each linted file runs in a transaction that is rolled back (and is
 * then applied, so the files after it find what it made), or, when it must
 * run outside a transaction, statement by statement. After every statement
 * one catalog query reads the locks this session holds (`pg_locks`), each
 * relation's storage (`relfilenode`: a new one means a rewrite) and its
 * sequential scans in this transaction (`pg_stat_xact_user_tables`).
 * Only relations that existed before the run count.
 *
 * @module
 */

import { isDbServerError } from "../core/db_error.ts";
import { maskEnvValues } from "../core/env_subst.ts";
import type { FileTrace, RelationLock, StatementTrace } from "../core/lint_observe.ts";
import type { LockMode } from "../core/lint_rules.ts";
import type { LintStep } from "../core/lint_scope.ts";
import { relationKey } from "../core/lint_tree.ts";
import { renderSetLocal, statementText } from "../core/script.ts";
import type { Db, MigrationFile } from "../core/types.ts";
import type { TableContext } from "../core/version_table.ts";
import { runPlan } from "../db/runner.ts";
import { sessionRestore } from "../db/session.ts";
import { ensureTables } from "../db/store.ts";

/** What the trace of a walk saw. */
export interface TraceResult {
  /** By file name, for the linted files that were traced. */
  readonly traces: ReadonlyMap<string, FileTrace>;
  /** `PostgreSQL 18.6 (PGlite 0.5.16)`: the scratch server. */
  readonly server: string;
  /** Why the trace stopped before the end (a file failed on the scratch database), or null. */
  readonly error: string | null;
}

/** Where the replay records what it applied (the scratch database's version table). */
export interface TraceOptions extends TableContext {
  readonly dir: string;
}

/**
 * Trace `steps` on `db`, an empty scratch database. Named down files are
 * not traced. A file that fails stops the trace (reported in `error`); what
 * was traced until then is returned.
 */
export async function traceSteps(
  db: Db,
  steps: readonly LintStep[],
  options: TraceOptions,
): Promise<TraceResult> {
  await ensureTables(db, options);
  const server = await serverName(db);
  const traces = new Map<string, FileTrace>();
  let baseline: ReadonlySet<string> = new Set();
  for (const step of steps) {
    if (step.kind === "down") continue;
    const file = step.migration.up;
    try {
      if (step.newRun) baseline = new Set((await snapshot(db)).keys());
      if (step.lint) {
        const trace = await traceFile(db, file, baseline);
        traces.set(file.fileName, trace);
        const failed = trace.statements.find((s) => s.error);
        if (failed) {
          return { traces, server, error: `"${file.fileName}" failed: ${failed.error!.message}` };
        }
      }
      if (!step.lint || file.runMode.kind === "transaction") await apply(db, step, options);
    } catch (err) {
      return { traces, server, error: `"${file.fileName}" failed: ${(err as Error).message}` };
    }
  }
  return { traces, server, error: null };
}

async function apply(db: Db, step: LintStep, options: TraceOptions): Promise<void> {
  await runPlan(db, { direction: "up", steps: [step], from: null, to: null }, {
    ...options,
    lockRetries: 0,
  });
}

async function serverName(db: Db): Promise<string> {
  const [row] = await db.query<{ v: string }>("SELECT pg_catalog.version() AS v");
  return row.v.replace(/ on .*$/s, "").replace(/,.*$/s, "");
}

function traceFile(db: Db, file: MigrationFile, baseline: ReadonlySet<string>): Promise<FileTrace> {
  return file.runMode.kind === "transaction"
    ? traceInTransaction(db, file, baseline)
    : traceStatements(db, file, baseline);
}

/** The statements strata sends for a transactional file (a redundant BEGIN/COMMIT wrapper dropped). */
function sentIndexes(file: MigrationFile): number[] {
  const all = file.statements.map((_, k) => k);
  return file.runMode.unwrapped ? all.slice(1, -1) : all;
}

async function traceInTransaction(
  db: Db,
  file: MigrationFile,
  baseline: ReadonlySet<string>,
): Promise<FileTrace> {
  const out: StatementTrace[] = [];
  await db.runScript("BEGIN;\n" + renderSetLocal(file.header));
  try {
    let before = await snapshot(db);
    for (const k of sentIndexes(file)) {
      const error = await runStatement(db, file, k);
      if (error) {
        out.push({ ...noEffect(file, k), taken: [], held: [], scanned: [], error });
        break;
      }
      const after = await snapshot(db);
      out.push(compare(noEffect(file, k), { before, after, baseline, inTransaction: true }));
      before = after;
    }
  } finally {
    const open = (await db.transactionStatus()) !== "idle";
    await db.runScript((open ? "ROLLBACK;\n" : "") + sessionRestore(db));
  }
  return { fileName: file.fileName, mode: "transaction", statements: out };
}

async function traceStatements(
  db: Db,
  file: MigrationFile,
  baseline: ReadonlySet<string>,
): Promise<FileTrace> {
  const out: StatementTrace[] = [];
  try {
    let before = await snapshot(db);
    for (let k = 0; k < file.statements.length; k++) {
      const error = await runStatement(db, file, k);
      if (error) {
        out.push({ ...noEffect(file, k), error });
        if ((await db.transactionStatus()) !== "idle") await db.runScript("ROLLBACK");
        break;
      }
      const inTransaction = (await db.transactionStatus()) !== "idle";
      const after = await snapshot(db);
      out.push(compare(noEffect(file, k), { before, after, baseline, inTransaction }));
      before = after;
    }
  } finally {
    await db.runScript(sessionRestore(db));
  }
  return { fileName: file.fileName, mode: "statements", statements: out };
}

async function runStatement(
  db: Db,
  file: MigrationFile,
  k: number,
): Promise<StatementTrace["error"]> {
  try {
    // As the runner sends it: `${NAME}` of the env header replaced by its value.
    await db.runScript(statementText(file, k));
    return null;
  } catch (err) {
    if (!isDbServerError(err)) throw err;
    return { sqlstate: err.sqlstate, message: maskEnvValues(err.message, file) };
  }
}

/** One relation in a snapshot. */
interface Relation {
  readonly key: string;
  readonly kind: string;
  readonly filenode: string;
  readonly seqScan: number;
  readonly locks: readonly LockMode[];
}

const SNAPSHOT = `
SELECT c.oid::pg_catalog.int8::pg_catalog.text AS oid, n.nspname::pg_catalog.text AS schema,
       c.relname::pg_catalog.text AS name, c.relkind::pg_catalog.text AS kind,
       c.relfilenode::pg_catalog.int8::pg_catalog.text AS filenode,
       COALESCE(s.seq_scan, 0)::pg_catalog.int8::pg_catalog.text AS seq_scan,
       (SELECT pg_catalog.string_agg(l.mode, ',') FROM pg_catalog.pg_locks l
         WHERE l.locktype OPERATOR(pg_catalog.=) 'relation'
           AND l.relation OPERATOR(pg_catalog.=) c.oid
           AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid() AND l.granted) AS locks
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
  LEFT JOIN pg_catalog.pg_stat_xact_user_tables s ON s.relid OPERATOR(pg_catalog.=) c.oid
 WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'm', 'i']::pg_catalog."char"[])
   AND n.nspname OPERATOR(pg_catalog.<>) ALL
       (ARRAY['pg_catalog', 'information_schema', 'pg_toast']::pg_catalog.name[])
   AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_temp')
   AND NOT pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_toast_temp')`;

/** Every user relation by oid: name, storage, scans and this session's locks. */
async function snapshot(db: Db): Promise<Map<string, Relation>> {
  const rows = await db.query<Record<string, string | null>>(SNAPSHOT);
  return new Map(rows.map((r) => [r.oid!, {
    key: relationKey(r.schema!, r.name!),
    kind: r.kind!,
    filenode: r.filenode!,
    seqScan: Number(r.seq_scan),
    locks: (r.locks ? r.locks.split(",") : []) as LockMode[],
  }]));
}

/** A statement's trace before anything is known: nothing observed. */
function noEffect(file: MigrationFile, index: number): StatementTrace {
  const line = file.statements[index].line;
  return { index, line, taken: null, held: null, rewritten: [], scanned: null, error: null };
}

function compare(
  start: StatementTrace,
  at: {
    before: ReadonlyMap<string, Relation>;
    after: ReadonlyMap<string, Relation>;
    baseline: ReadonlySet<string>;
    inTransaction: boolean;
  },
): StatementTrace {
  const held: RelationLock[] = [];
  const taken: RelationLock[] = [];
  const rewritten: { relation: string; isTable: boolean }[] = [];
  const scanned: string[] = [];
  for (const [oid, rel] of at.after) {
    if (!at.baseline.has(oid)) continue;
    const old = at.before.get(oid);
    for (const mode of rel.locks) {
      held.push({ relation: rel.key, mode });
      if (!old?.locks.includes(mode)) taken.push({ relation: rel.key, mode });
    }
    if (!old) continue;
    if (old.filenode !== rel.filenode && old.filenode !== "0") {
      rewritten.push({ relation: rel.key, isTable: rel.kind === "r" });
    }
    if (rel.kind === "r" && rel.seqScan > old.seqScan) scanned.push(rel.key);
  }
  return {
    ...start,
    taken: at.inTransaction ? taken : null,
    held: at.inTransaction ? held : null,
    rewritten,
    scanned: at.inTransaction ? scanned : null,
  };
}
