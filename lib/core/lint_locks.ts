/**
 * The table-level locks a statement takes on relations that existed before
 * the run, as PostgreSQL's documentation and source give them: what
 * `no-lock-timeout` warns about, and what `--trace` compares with `pg_locks`.
 * Pure.
 *
 * @module
 */

import { isNew, type PredictedLock, type StatementContext } from "./lint_context.ts";
import { LOCK_MODES, type LockMode, lockRank } from "./lint_rules.ts";
import {
  type AlterCommand,
  alterCommands,
  alteredTable,
  field,
  flag,
  list,
  nameListKey,
  path,
  rangeVarKey,
  str,
  type Tree,
  unwrap,
} from "./lint_tree.ts";

/** Relations whose RENAME is a `rename` finding (and takes ACCESS EXCLUSIVE). */
export const RENAMED_RELATIONS: ReadonlySet<string> = new Set([
  "OBJECT_TABLE",
  "OBJECT_VIEW",
  "OBJECT_MATVIEW",
]);

const LOCKING_RENAMES = new Set([...RENAMED_RELATIONS, "OBJECT_COLUMN", "OBJECT_TABCONSTRAINT"]);

/**
 * The locks statement `kind` (with `body`) takes on relations that existed
 * before the run; empty for statements that take none worth a lock timeout.
 */
export function predictLocks(kind: string, body: Tree, c: StatementContext): PredictedLock[] {
  const on = (key: string | undefined, mode: LockMode): PredictedLock[] =>
    key === undefined || isNew(c, key) ? [] : [{ relation: key, mode }];
  const relation = rangeVarKey(field(body, "relation"));
  switch (kind) {
    case "AlterTableStmt":
      return alterTableLocks(body, c);
    case "RenameStmt":
      return LOCKING_RENAMES.has(str(field(body, "renameType")) ?? "")
        ? on(relation, "AccessExclusiveLock")
        : [];
    case "DropStmt":
      return dropLocks(body, c);
    case "CreateTrigStmt":
      return on(relation, "ShareRowExclusiveLock");
    case "TruncateStmt":
      return list(field(body, "relations")).flatMap((r) =>
        on(rangeVarKey(field(r, "RangeVar")), "AccessExclusiveLock")
      );
    case "LockStmt":
      return list(field(body, "relations")).flatMap((r) =>
        on(rangeVarKey(field(r, "RangeVar")), LOCK_MODES[(field(body, "mode") as number) - 1])
      );
    case "IndexStmt":
      return flag(field(body, "concurrent")) ? [] : on(relation, "ShareLock");
    case "RefreshMatViewStmt":
      return on(
        relation,
        flag(field(body, "concurrent")) ? "ExclusiveLock" : "AccessExclusiveLock",
      );
    case "CreateStmt":
      return createLocks(body, c);
  }
  return [];
}

function dropLocks(body: Tree, c: StatementContext): PredictedLock[] {
  const { type, keys } = droppedExisting(body, c);
  if (type === "OBJECT_INDEX" && flag(field(body, "concurrent"))) return [];
  return keys.map((k) => ({ relation: k, mode: "AccessExclusiveLock" }));
}

/**
 * The object type of a DROP statement (`OBJECT_TABLE`, `OBJECT_INDEX`, ...)
 * and, for a table or an index, the dropped ones that existed before the run
 * (a table not created in this run, an index not built in it). `keys` is
 * empty for other object types.
 */
export function droppedExisting(
  body: Tree,
  c: StatementContext,
): { type: string | undefined; keys: string[] } {
  const type = str(field(body, "removeType"));
  const keys = list(field(body, "objects")).map(nameListKey).filter((k) => k !== undefined);
  if (type === "OBJECT_TABLE") return { type, keys: keys.filter((k) => !isNew(c, k)) };
  if (type === "OBJECT_INDEX") {
    return { type, keys: keys.filter((k) => !c.state.run.indexes.has(k)) };
  }
  return { type, keys: [] };
}

/** CREATE TABLE locks the tables it references (SHARE ROW EXCLUSIVE) and a parent it joins. */
function createLocks(body: Tree, c: StatementContext): PredictedLock[] {
  const out: PredictedLock[] = [];
  const add = (key: string | undefined, mode: LockMode) => {
    if (key !== undefined && !isNew(c, key) && !out.some((l) => l.relation === key)) {
      out.push({ relation: key, mode });
    }
  };
  if (field(body, "partbound") !== undefined) {
    for (const parent of list(field(body, "inhRelations"))) {
      add(rangeVarKey(field(parent, "RangeVar")), "AccessExclusiveLock");
    }
  }
  for (const element of list(field(body, "tableElts"))) {
    const [type, node] = unwrap(element);
    const constraints = type === "Constraint" ? [element] : list(field(node, "constraints"));
    for (const con of constraints) {
      if (str(path(con, "Constraint", "contype")) !== "CONSTR_FOREIGN") continue;
      add(rangeVarKey(path(con, "Constraint", "pktable")), "ShareRowExclusiveLock");
    }
  }
  return out;
}

const AE: LockMode = "AccessExclusiveLock";

const SHARE_UPDATE_EXCLUSIVE = new Set([
  "AT_SetStatistics",
  "AT_ValidateConstraint",
  "AT_ClusterOn",
  "AT_DropCluster",
  "AT_SetOptions",
  "AT_ResetOptions",
  "AT_SetRelOptions",
  "AT_ResetRelOptions",
  "AT_DetachPartitionFinalize",
]);

/** The locks an ALTER TABLE takes on relations that existed before the run. */
function alterTableLocks(body: Tree, c: StatementContext): PredictedLock[] {
  const table = alteredTable(body);
  if (table === undefined || isNew(c, table)) return [];
  const out: PredictedLock[] = [];
  let strongest: LockMode = "ShareUpdateExclusiveLock";
  for (const cmd of alterCommands(body)) {
    const [mode, other] = commandLock(cmd);
    if (lockRank(mode) > lockRank(strongest)) strongest = mode;
    if (other && !isNew(c, other.relation)) out.push(other);
  }
  return [{ relation: table, mode: strongest }, ...out];
}

/** The lock a subcommand takes on the table, and on one other relation if any. */
function commandLock(cmd: AlterCommand): [LockMode, PredictedLock | undefined] {
  if (cmd.subtype === "AT_AttachPartition") {
    // The parent gets SHARE UPDATE EXCLUSIVE (PostgreSQL 12+); the partition is locked
    // and scanned for rows outside its bounds.
    const partition = rangeVarKey(path(cmd.def, "PartitionCmd", "name"));
    const other = partition ? { relation: partition, mode: AE } : undefined;
    return ["ShareUpdateExclusiveLock", other];
  }
  if (SHARE_UPDATE_EXCLUSIVE.has(cmd.subtype)) return ["ShareUpdateExclusiveLock", undefined];
  if (cmd.subtype === "AT_DetachPartition" && flag(path(cmd.def, "PartitionCmd", "concurrent"))) {
    return ["ShareUpdateExclusiveLock", undefined];
  }
  if (/^AT_(Enable|Disable).*Trig/.test(cmd.subtype)) return ["ShareRowExclusiveLock", undefined];
  const con = field(cmd.def, "Constraint") ?? foreignKeyOfColumn(cmd.def);
  if (str(field(con, "contype")) === "CONSTR_FOREIGN") {
    const mode: LockMode = cmd.subtype === "AT_AddConstraint" ? "ShareRowExclusiveLock" : AE;
    const target = rangeVarKey(field(con, "pktable"));
    return [mode, target ? { relation: target, mode: "ShareRowExclusiveLock" } : undefined];
  }
  return [AE, undefined];
}

function foreignKeyOfColumn(def: Tree): Tree {
  for (const item of list(path(def, "ColumnDef", "constraints"))) {
    const [, con] = unwrap(item);
    if (str(field(con, "contype")) === "CONSTR_FOREIGN") return con;
  }
  return undefined;
}
