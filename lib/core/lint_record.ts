/**
 * What a statement leaves behind for the statements after it: the tables,
 * indexes and columns this run created (new, so no index or constraint rule
 * fires on them), and the schema facts (column types, validated
 * `CHECK (c IS NOT NULL)`). Pure: it updates the lint state it is given.
 *
 * @module
 */

import { isNew, memberKey, type StatementContext } from "./lint_context.ts";
import {
  alterCommands,
  alteredTable,
  columnType,
  field,
  flag,
  list,
  nameListKey,
  notNullColumn,
  path,
  rangeVarKey,
  relationKey,
  str,
  type Tree,
} from "./lint_tree.ts";

/** Record in `c.state` what statement `kind` (with `body`) creates, renames or drops. */
export function recordStatement(kind: string, body: Tree, c: StatementContext): void {
  const { run, schema } = c.state;
  switch (kind) {
    case "CreateStmt":
      return recordCreateTable(body, c);
    case "CreateTableAsStmt":
    case "SelectStmt":
      return addTable(
        c,
        rangeVarKey(path(body, kind === "SelectStmt" ? "intoClause" : "into", "rel")),
      );
    case "ViewStmt":
      return addTable(c, rangeVarKey(field(body, "view")));
    case "IndexStmt": {
      const name = str(field(body, "idxname"));
      const schemaName = str(path(body, "relation", "schemaname"));
      if (name !== undefined) run.indexes.add(relationKey(schemaName, name));
      return;
    }
    case "DropStmt":
      for (const key of list(field(body, "objects")).map(nameListKey)) {
        if (key === undefined) continue;
        run.tables.delete(key);
        run.indexes.delete(key);
        if (str(field(body, "removeType")) === "OBJECT_TABLE") schema.columns.delete(key);
      }
      return;
    case "RenameStmt":
      return recordRename(body, c);
    case "AlterTableStmt":
      return recordAlterTable(body, c);
  }
}

function addTable(c: StatementContext, key: string | undefined): void {
  if (key !== undefined) c.state.run.tables.add(key);
}

function recordCreateTable(body: Tree, c: StatementContext): void {
  const key = rangeVarKey(field(body, "relation"));
  if (key === undefined) return;
  addTable(c, key);
  const columns = new Map();
  for (const element of list(field(body, "tableElts"))) {
    const def = field(element, "ColumnDef");
    const name = str(field(def, "colname"));
    if (name !== undefined) columns.set(name, columnType(field(def, "typeName")));
  }
  c.state.schema.columns.set(key, columns);
}

function recordRename(body: Tree, c: StatementContext): void {
  const { run, schema } = c.state;
  const table = rangeVarKey(field(body, "relation"));
  const to = str(field(body, "newname"));
  if (table === undefined || to === undefined) return;
  if (str(field(body, "renameType")) === "OBJECT_COLUMN") {
    const from = str(field(body, "subname")) ?? "";
    const columns = schema.columns.get(table);
    const type = columns?.get(from);
    if (columns && type) columns.set(to, type);
    columns?.delete(from);
    if (run.columns.delete(memberKey(table, from))) run.columns.add(memberKey(table, to));
    return;
  }
  const renamedKey = relationKey(str(path(body, "relation", "schemaname")), to);
  if (run.tables.delete(table)) run.tables.add(renamedKey);
  if (run.indexes.delete(table)) run.indexes.add(renamedKey);
  const columns = schema.columns.get(table);
  if (columns) schema.columns.set(renamedKey, columns);
  schema.columns.delete(table);
}

/** Record what an ALTER TABLE leaves behind: column types, new columns, NOT NULL checks. */
function recordAlterTable(body: Tree, c: StatementContext): void {
  const table = alteredTable(body);
  if (table === undefined) return;
  const { schema, run } = c.state;
  const columns = schema.columns.get(table) ?? new Map();
  schema.columns.set(table, columns);
  for (const cmd of alterCommands(body)) {
    if (cmd.subtype === "AT_AddColumn") {
      const def = field(cmd.def, "ColumnDef");
      const col = str(field(def, "colname")) ?? "";
      columns.set(col, columnType(field(def, "typeName")));
      if (!isNew(c, table)) run.columns.add(memberKey(table, col));
    } else if (cmd.subtype === "AT_AlterColumnType") {
      columns.set(cmd.name ?? "", columnType(path(cmd.def, "ColumnDef", "typeName")));
    } else if (cmd.subtype === "AT_DropColumn") {
      columns.delete(cmd.name ?? "");
    } else if (cmd.subtype === "AT_AddConstraint") {
      recordCheck(table, field(cmd.def, "Constraint"), c);
    } else if (cmd.subtype === "AT_ValidateConstraint") {
      const column = schema.pendingNotNull.get(memberKey(table, cmd.name ?? ""));
      if (column !== undefined) schema.validNotNull.add(memberKey(table, column));
    }
  }
}

function recordCheck(table: string, con: Tree, c: StatementContext): void {
  if (str(field(con, "contype")) !== "CONSTR_CHECK") return;
  const column = notNullColumn(field(con, "raw_expr"));
  if (column === undefined) return;
  const { schema } = c.state;
  if (!flag(field(con, "skip_validation"))) schema.validNotNull.add(memberKey(table, column));
  else schema.pendingNotNull.set(memberKey(table, str(field(con, "conname")) ?? ""), column);
}
