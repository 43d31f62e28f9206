/**
 * The rules on `ALTER TABLE`: added columns (volatile defaults, required
 * columns, inline constraints), added constraints (validated foreign keys and
 * checks, unique and primary keys), SET NOT NULL, type changes, dropped
 * columns, DETACH PARTITION and the rewriting subcommands. Pure.
 *
 * @module
 */

import {
  byteAt,
  concurrentlyInTransaction,
  isNew,
  memberKey,
  type RawFinding,
  type StatementContext,
} from "./lint_context.ts";
import {
  type AlterCommand,
  alterCommands,
  alteredTable,
  columnType,
  field,
  flag,
  isSerial,
  keepsStorage,
  list,
  path,
  rangeVarKey,
  str,
  type Tree,
  volatility,
} from "./lint_tree.ts";

/** Findings of an ALTER TABLE statement. */
export function checkAlterTable(body: Tree, c: StatementContext): RawFinding[] {
  const table = alteredTable(body);
  if (table === undefined) return [];
  const out: RawFinding[] = [];
  for (const cmd of alterCommands(body)) {
    const concurrent = cmd.subtype === "AT_DetachPartition" &&
      flag(path(cmd.def, "PartitionCmd", "concurrent"));
    if (concurrent && c.inTransaction) {
      out.push(concurrentlyInTransaction(c, "DETACH PARTITION ... CONCURRENTLY"));
    }
    if (!isNew(c, table)) out.push(...checkCommand(table, cmd, c));
  }
  return out;
}

function checkCommand(table: string, cmd: AlterCommand, c: StatementContext): RawFinding[] {
  switch (cmd.subtype) {
    case "AT_AddColumn":
      return checkAddColumn(table, field(cmd.def, "ColumnDef"), c);
    case "AT_AddConstraint":
      return checkConstraint(table, field(cmd.def, "Constraint"), c);
    case "AT_SetNotNull":
      return checkSetNotNull(table, cmd.name ?? "", c);
    case "AT_AlterColumnType":
      return checkAlterType(table, cmd, c);
    case "AT_DropColumn":
      if (c.state.run.columns.has(memberKey(table, cmd.name ?? ""))) return [];
      return [{
        rule: "drop-column-or-table",
        at: c.at,
        message: `DROP COLUMN "${cmd.name}" of "${table}": its data is lost, and running code ` +
          "that still reads or writes it breaks",
        relations: [table],
      }];
    case "AT_DetachPartition":
      return flag(path(cmd.def, "PartitionCmd", "concurrent")) ? [] : [detach(table, c)];
    case "AT_SetTableSpace":
    case "AT_SetLogged":
    case "AT_SetUnLogged":
    case "AT_SetAccessMethod":
      return [{
        rule: "rewrite-maintenance",
        at: c.at,
        message: `ALTER TABLE "${table}" ${maintenanceWords(cmd.subtype)} rewrites the whole ` +
          "table under ACCESS EXCLUSIVE",
        relations: [table],
        safe: "do it in a maintenance window, or use pg_repack",
      }];
  }
  return [];
}

function maintenanceWords(subtype: string): string {
  return ({
    AT_SetTableSpace: "SET TABLESPACE",
    AT_SetLogged: "SET LOGGED",
    AT_SetUnLogged: "SET UNLOGGED",
    AT_SetAccessMethod: "SET ACCESS METHOD",
  } as Record<string, string>)[subtype] ?? subtype;
}

function detach(table: string, c: StatementContext): RawFinding {
  return {
    rule: "rewrite-maintenance",
    at: c.at,
    message: `DETACH PARTITION from "${table}" without CONCURRENTLY takes ACCESS EXCLUSIVE ` +
      "on the partitioned table",
    relations: [table],
    safe: c.pgVersion >= 14
      ? "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY, alone in its file"
      : "DETACH ... CONCURRENTLY needs PostgreSQL 14; before that keep it short with a lock-timeout",
  };
}

function constraintsOf(columnDef: Tree): Map<string, Tree> {
  const out = new Map<string, Tree>();
  for (const item of list(field(columnDef, "constraints"))) {
    const con = field(item, "Constraint");
    const type = str(field(con, "contype"));
    if (type && !out.has(type)) out.set(type, con);
  }
  return out;
}

function checkAddColumn(table: string, def: Tree, c: StatementContext): RawFinding[] {
  const col = str(field(def, "colname")) ?? "";
  const type = columnType(field(def, "typeName"));
  const cons = constraintsOf(def);
  const defaultExpr = field(cons.get("CONSTR_DEFAULT"), "raw_expr");
  const hasDefault = defaultExpr !== undefined && !flag(path(defaultExpr, "A_Const", "isnull"));
  const filled = isSerial(type)
    ? `${type.name} column`
    : cons.has("CONSTR_IDENTITY")
    ? "identity column"
    : cons.has("CONSTR_GENERATED")
    ? "stored generated column"
    : undefined;
  const at = byteAt(c, def);
  const name = `ADD COLUMN "${col}" to "${table}"`;
  const out: RawFinding[] = [];
  if (filled) {
    out.push(rewrite(at, `${name} as a ${filled}: every existing row gets a value`, table));
  } else if (hasDefault) {
    const finding = checkDefault(defaultExpr, { at, name, table, pgVersion: c.pgVersion });
    if (finding) out.push(finding);
  }
  if (cons.has("CONSTR_NOTNULL") && !hasDefault && !filled) {
    out.push({
      rule: "required-column",
      at,
      message: `${name} NOT NULL without a default: fails if the table has rows, and INSERTs ` +
        "of the running code (which do not name it) fail afterwards",
      relations: [table],
    });
  }
  for (const type of ["CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_CHECK", "CONSTR_FOREIGN"]) {
    const con = cons.get(type);
    if (con) out.push(...checkConstraint(table, con, c, `${name} with `));
  }
  return out;
}

function rewrite(at: number, message: string, table: string): RawFinding {
  return {
    rule: "volatile-default",
    at,
    message: `${message}, so the table is rewritten`,
    relations: [table],
  };
}

function checkDefault(
  expr: Tree,
  where: { at: number; name: string; table: string; pgVersion: number },
): RawFinding | undefined {
  if (where.pgVersion < 11) {
    return {
      ...rewrite(
        where.at,
        `${where.name} with a DEFAULT on PostgreSQL ${where.pgVersion}`,
        where.table,
      ),
      safe: "before PostgreSQL 11 every DEFAULT rewrites: add the column nullable, SET DEFAULT, " +
        "then backfill in batches",
    };
  }
  const v = volatility(expr);
  if (v === "stable") return undefined;
  if (v === "volatile") {
    return rewrite(where.at, `${where.name} with a volatile DEFAULT`, where.table);
  }
  return {
    ...rewrite(
      where.at,
      `${where.name} with a DEFAULT that calls a function strata does not know ` +
        "(if it is volatile)",
      where.table,
    ),
    severity: "warning",
  };
}

function checkConstraint(table: string, con: Tree, c: StatementContext, prefix = ""): RawFinding[] {
  const type = str(field(con, "contype"));
  const at = byteAt(c, con);
  const notValid = flag(field(con, "skip_validation"));
  const named = str(field(con, "conname"));
  const label = named ? ` "${named}"` : "";
  if (type === "CONSTR_FOREIGN" && !notValid) {
    const target = rangeVarKey(field(con, "pktable")) ?? "";
    return [{
      rule: "foreign-key-validated",
      at,
      message:
        `${prefix}FOREIGN KEY${label} from "${table}" to "${target}" is validated at once: ` +
        "both tables are locked while the rows are checked",
      relations: target && target !== table ? [table, target] : [table],
    }];
  }
  if (type === "CONSTR_CHECK" && !notValid) {
    return [{
      rule: "check-validated",
      at,
      message: `${prefix}CHECK${label} on "${table}" is validated at once: every row is read ` +
        "under ACCESS EXCLUSIVE",
      relations: [table],
    }];
  }
  return indexConstraint(table, con, { at, prefix, label });
}

const INDEX_CONSTRAINTS: Readonly<Record<string, string>> = {
  CONSTR_PRIMARY: "PRIMARY KEY",
  CONSTR_UNIQUE: "UNIQUE",
  CONSTR_EXCLUSION: "EXCLUDE",
};

/** A constraint that builds an index, unless it adopts one (`USING INDEX`). */
function indexConstraint(
  table: string,
  con: Tree,
  how: { at: number; prefix: string; label: string },
): RawFinding[] {
  const index = INDEX_CONSTRAINTS[str(field(con, "contype")) ?? ""];
  if (index === undefined || str(field(con, "indexname")) !== undefined) return [];
  return [{
    rule: "unique-constraint",
    at: how.at,
    message: `${how.prefix}${index}${how.label} on "${table}" builds its index under ` +
      `ACCESS EXCLUSIVE${index === "PRIMARY KEY" ? " (and sets NOT NULL, which scans)" : ""}`,
    relations: [table],
  }];
}

function checkSetNotNull(table: string, column: string, c: StatementContext): RawFinding[] {
  const valid = c.state.schema.validNotNull.has(memberKey(table, column));
  if (valid && c.pgVersion >= 12) return [];
  return [{
    rule: "set-not-null",
    at: c.at,
    message: `SET NOT NULL on "${table}"."${column}" reads every row under ACCESS EXCLUSIVE`,
    relations: [table],
    safe: c.pgVersion >= 12
      ? `ADD CONSTRAINT ... CHECK ("${column}" IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a ` +
        "later migration, then SET NOT NULL (PostgreSQL 12+ then skips the scan)"
      : `PostgreSQL ${c.pgVersion} always scans: keep a validated CHECK ("${column}" IS NOT NULL) ` +
        "instead, or run it in a quiet window",
  }];
}

function checkAlterType(table: string, cmd: AlterCommand, c: StatementContext): RawFinding[] {
  const def = field(cmd.def, "ColumnDef");
  const column = cmd.name ?? "";
  const to = columnType(field(def, "typeName"));
  const from = c.state.schema.columns.get(table)?.get(column);
  const using = field(def, "raw_default") !== undefined;
  const keeps = using ? false : keepsStorage(from, to);
  if (keeps === true) return [];
  const what = `ALTER COLUMN "${column}" of "${table}" TYPE ${to.name}`;
  const at = byteAt(c, def);
  if (keeps === "unknown") {
    return [{
      rule: "column-type-rewrite",
      at,
      message: `${what}: no earlier migration says what type it has, so strata cannot tell ` +
        "whether the table is rewritten (it is not from varchar or text, or when only widening)",
      relations: [table],
      severity: "warning",
    }];
  }
  return [{
    rule: "column-type-rewrite",
    at,
    message: `${what}${using ? " USING ..." : from ? ` (from ${from.name})` : ""} rewrites the ` +
      "table and rebuilds its indexes under ACCESS EXCLUSIVE",
    relations: [table],
  }];
}
