/**
 * Lint one parsed statement: the rules for CREATE / DROP INDEX, DROP TABLE,
 * RENAME, VACUUM FULL, CLUSTER and REINDEX (ALTER TABLE is in
 * `lint_alter.ts`), with the locks it takes (`lint_locks.ts`), then record
 * what it leaves behind for the statements after it (`lint_record.ts`). Pure.
 *
 * @module
 */

import {
  concurrentlyInTransaction,
  isNew,
  memberKey,
  type PredictedLock,
  type RawFinding,
  type StatementContext,
} from "./lint_context.ts";
import { checkAlterTable } from "./lint_alter.ts";
import { droppedExisting, predictLocks, RENAMED_RELATIONS } from "./lint_locks.ts";
import { recordStatement } from "./lint_record.ts";
import {
  field,
  flag,
  list,
  optionNames,
  path,
  rangeVarKey,
  str,
  type Tree,
  unwrap,
} from "./lint_tree.ts";

/** What one statement yields: its findings and its predicted locks. */
export interface StatementLint {
  /** The parse node's type, e.g. `AlterTableStmt`. */
  readonly kind: string;
  readonly findings: readonly RawFinding[];
  readonly locks: readonly PredictedLock[];
}

type Check = (body: Tree, c: StatementContext) => RawFinding[];

const CHECKS: Readonly<Record<string, Check>> = {
  IndexStmt: checkCreateIndex,
  DropStmt: checkDrop,
  AlterTableStmt: checkAlterTable,
  RenameStmt: checkRename,
  VacuumStmt: checkVacuum,
  ClusterStmt: (body, c) => maintenance(c, "CLUSTER", rangeVarKey(field(body, "relation"))),
  ReindexStmt: checkReindex,
};

/**
 * Lint `tree` (one statement node) in context `c`, then record what it
 * creates, renames or drops in `c.state`. Returns no findings for statements
 * no rule is about.
 */
export function lintStatement(tree: Tree, c: StatementContext): StatementLint {
  const [kind, body] = unwrap(tree);
  const findings = CHECKS[kind]?.(body, c) ?? [];
  const locks = predictLocks(kind, body, c);
  recordStatement(kind, body, c);
  return { kind, findings, locks };
}

function checkCreateIndex(body: Tree, c: StatementContext): RawFinding[] {
  const table = rangeVarKey(field(body, "relation"));
  if (flag(field(body, "concurrent"))) {
    return c.inTransaction ? [concurrentlyInTransaction(c, "CREATE INDEX CONCURRENTLY")] : [];
  }
  if (table === undefined || isNew(c, table)) return [];
  const name = str(field(body, "idxname"));
  return [{
    rule: "index-not-concurrent",
    at: c.at,
    message: `CREATE ${flag(field(body, "unique")) ? "UNIQUE " : ""}INDEX` +
      `${name ? ` "${name}"` : ""} on "${table}", which existed before this run, without ` +
      "CONCURRENTLY: writes to it wait for the whole build",
    relations: [table],
  }];
}

function checkDrop(body: Tree, c: StatementContext): RawFinding[] {
  const { type, keys } = droppedExisting(body, c);
  if (type === "OBJECT_INDEX") {
    if (flag(field(body, "concurrent"))) {
      return c.inTransaction ? [concurrentlyInTransaction(c, "DROP INDEX CONCURRENTLY")] : [];
    }
    return keys.map((k) => ({
      rule: "drop-index-not-concurrent",
      at: c.at,
      message: `DROP INDEX "${k}" without CONCURRENTLY takes ACCESS EXCLUSIVE on its table`,
      relations: [k],
    }));
  }
  if (type !== "OBJECT_TABLE") return [];
  return keys.map((k) => ({
    rule: "drop-column-or-table",
    at: c.at,
    message: `DROP TABLE "${k}": its data is lost, and running code that still uses it breaks`,
    relations: [k],
  }));
}

function checkRename(body: Tree, c: StatementContext): RawFinding[] {
  const type = str(field(body, "renameType"));
  const table = rangeVarKey(field(body, "relation"));
  const to = str(field(body, "newname"));
  if (table === undefined || isNew(c, table)) return [];
  if (type === "OBJECT_COLUMN") {
    const column = str(field(body, "subname")) ?? "";
    if (c.state.run.columns.has(memberKey(table, column))) return [];
    return [renamed(c, `RENAME COLUMN "${column}" of "${table}" to "${to}"`, table)];
  }
  if (!RENAMED_RELATIONS.has(type ?? "")) return [];
  return [renamed(c, `RENAME "${table}" TO "${to}"`, table)];
}

function renamed(c: StatementContext, what: string, table: string): RawFinding {
  return {
    rule: "rename",
    at: c.at,
    message: `${what}: running code that uses the old name breaks the moment this commits`,
    relations: [table],
  };
}

function checkVacuum(body: Tree, c: StatementContext): RawFinding[] {
  if (!flag(field(body, "is_vacuumcmd")) || !optionNames(field(body, "options")).has("full")) {
    return [];
  }
  const rels = list(field(body, "rels")).map((r) =>
    rangeVarKey(path(r, "VacuumRelation", "relation"))
  );
  if (rels.length === 0) return maintenance(c, "VACUUM FULL", undefined);
  return rels.flatMap((r) => maintenance(c, "VACUUM FULL", r));
}

function checkReindex(body: Tree, c: StatementContext): RawFinding[] {
  if (optionNames(field(body, "params")).has("concurrently")) {
    return c.inTransaction ? [concurrentlyInTransaction(c, "REINDEX CONCURRENTLY")] : [];
  }
  const kind = str(field(body, "kind")) ?? "";
  const target = rangeVarKey(field(body, "relation"));
  if (kind === "REINDEX_OBJECT_INDEX" && target && c.state.run.indexes.has(target)) return [];
  const what = kind === "REINDEX_OBJECT_INDEX"
    ? "REINDEX INDEX"
    : kind === "REINDEX_OBJECT_TABLE"
    ? "REINDEX TABLE"
    : `REINDEX ${kind.replace("REINDEX_OBJECT_", "")}`;
  return maintenance(c, what, target ?? str(field(body, "name")));
}

function maintenance(c: StatementContext, what: string, target: string | undefined): RawFinding[] {
  if (target !== undefined && isNew(c, target)) return [];
  const reindex = what.startsWith("REINDEX");
  return [{
    rule: "rewrite-maintenance",
    at: c.at,
    message: `${what}${target ? ` "${target}"` : " of every table"} ` +
      (reindex
        ? "without CONCURRENTLY rebuilds indexes while writes (and reads using them) wait"
        : "rewrites the table under ACCESS EXCLUSIVE: nothing can read or write it meanwhile"),
    relations: target ? [target] : [],
    safe: reindex
      ? (c.pgVersion >= 12
        ? "REINDEX ... CONCURRENTLY, alone in its file"
        : "REINDEX CONCURRENTLY needs PostgreSQL 12: build a copy CONCURRENTLY and swap, or pg_repack")
      : "pg_repack (or pg_squeeze) rebuilds without the long lock",
    expect: reindex
      ? { lock: what === "REINDEX INDEX" ? "AccessExclusiveLock" : "ShareLock", rewrite: true }
      : undefined,
  }];
}

/** Statements that read or write rows rather than change the schema. */
export const DML_KINDS: ReadonlySet<string> = new Set([
  "InsertStmt",
  "UpdateStmt",
  "DeleteStmt",
  "MergeStmt",
  "SelectStmt",
  "CopyStmt",
  "DoStmt",
  "CallStmt",
  "ExplainStmt",
]);
