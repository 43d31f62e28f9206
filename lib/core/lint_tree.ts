/**
 * Read PostgreSQL parse trees (the JSON that libpg-query returns) without
 * trusting their shape: every accessor returns undefined or an empty list
 * where a field is missing (protobuf leaves out zero values: `false`, `0`,
 * empty lists). Also what the rules need to know about names, types and
 * expressions. Pure.
 *
 * @module
 */

/** A node of the tree: anything; read it with the accessors below. */
export type Tree = unknown;

/** `node[key]` for an object node, else undefined. */
export function field(node: Tree, key: string): Tree {
  return typeof node === "object" && node !== null
    ? (node as Record<string, Tree>)[key]
    : undefined;
}

/** `node[k1][k2]...`. */
export function path(node: Tree, ...keys: string[]): Tree {
  let at = node;
  for (const k of keys) at = field(at, k);
  return at;
}

/** The node as a list (empty when it is not one). */
export function list(node: Tree): readonly Tree[] {
  return Array.isArray(node) ? node : [];
}

/** The node as a string, or undefined. */
export function str(node: Tree): string | undefined {
  return typeof node === "string" ? node : undefined;
}

/** True only for a literal `true`. */
export function flag(node: Tree): boolean {
  return node === true;
}

/** A node's one key and its body: `{"IndexStmt": {...}}` gives `["IndexStmt", {...}]`. */
export function unwrap(node: Tree): [string, Tree] {
  if (typeof node !== "object" || node === null) return ["", undefined];
  const keys = Object.keys(node);
  return keys.length === 1 ? [keys[0], (node as Record<string, Tree>)[keys[0]]] : ["", undefined];
}

/** `[{"String": {"sval": "a"}}, ...]` as `["a", ...]`. */
export function names(node: Tree): string[] {
  const out: string[] = [];
  for (const item of list(node)) {
    const s = str(path(item, "String", "sval"));
    if (s !== undefined) out.push(s);
  }
  return out;
}

/**
 * The run-wide key of a relation: `name`, or `schema.name` outside `public`
 * (an unqualified name is taken to be in `public`, the usual search_path).
 */
export function relationKey(schema: string | undefined, name: string): string {
  return schema && schema !== "public" ? `${schema}.${name}` : name;
}

/** The key of a RangeVar node, or undefined when it has no name. */
export function rangeVarKey(rangeVar: Tree): string | undefined {
  const name = str(field(rangeVar, "relname"));
  return name === undefined ? undefined : relationKey(str(field(rangeVar, "schemaname")), name);
}

/** The key of a qualified name list (`DROP TABLE s.t`: `["s", "t"]`). */
export function nameListKey(node: Tree): string | undefined {
  const parts = names(field(node, "List") !== undefined ? path(node, "List", "items") : node);
  if (parts.length === 0) return undefined;
  return relationKey(parts.length > 1 ? parts[parts.length - 2] : undefined, parts.at(-1)!);
}

/** A byte offset in the parsed text, or undefined (-1 and absent mean unknown). */
export function location(node: Tree): number | undefined {
  const at = field(node, "location");
  return typeof at === "number" && at >= 0 ? at : undefined;
}

/** A column's type: its base name (aliases resolved) and type modifiers. */
export interface ColumnType {
  readonly name: string;
  readonly mods: readonly number[];
  readonly isArray: boolean;
}

const ALIASES: Readonly<Record<string, string>> = {
  int: "int4",
  integer: "int4",
  smallint: "int2",
  bigint: "int8",
  decimal: "numeric",
  real: "float4",
  float: "float8",
  "double precision": "float8",
  "character varying": "varchar",
  character: "bpchar",
  char: "bpchar",
  bool: "bool",
  boolean: "bool",
  "timestamp with time zone": "timestamptz",
  "time with time zone": "timetz",
};

/** The type of a TypeName node. */
export function columnType(typeName: Tree): ColumnType {
  const parts = names(field(typeName, "names"));
  const raw = (parts.at(-1) ?? "").toLowerCase();
  const mods = list(field(typeName, "typmods")).map((m) => {
    const v = path(m, "A_Const", "ival");
    return typeof field(v, "ival") === "number" ? field(v, "ival") as number : 0;
  });
  return {
    name: ALIASES[raw] ?? raw,
    mods,
    isArray: list(field(typeName, "arrayBounds")).length > 0,
  };
}

const SERIALS = new Set(["serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"]);

/** True for `serial` and friends: a sequence default, filled in for every existing row. */
export function isSerial(type: ColumnType): boolean {
  return SERIALS.has(type.name);
}

/** Types whose modifier PostgreSQL can raise without touching the rows. */
const WIDENABLE = new Set(["varchar", "numeric", "varbit", "timestamp", "timestamptz", "time"]);
const TEXTUAL = new Set(["varchar", "text"]);

/**
 * Whether changing a column from `from` to `to` keeps its storage (no
 * rewrite): `varchar` to `text` or wider `varchar`, `cidr` to `inet`, a
 * wider (or removed) modifier of varchar, numeric (same scale), varbit and
 * the time types. `"unknown"` when the old type is not known: then it is safe
 * only if `to` is textual or a modifier-only change.
 */
export function keepsStorage(from: ColumnType | undefined, to: ColumnType): boolean | "unknown" {
  if (from === undefined) return TEXTUAL.has(to.name) || WIDENABLE.has(to.name) ? "unknown" : false;
  if (from.isArray !== to.isArray) return false;
  if (TEXTUAL.has(from.name) && TEXTUAL.has(to.name)) {
    if (to.name === "text" || to.mods.length === 0) return true;
    return from.name === "varchar" && from.mods.length > 0 && to.mods[0] >= from.mods[0];
  }
  if (from.name === "cidr" && to.name === "inet") return true;
  if (from.name !== to.name || !WIDENABLE.has(to.name)) return false;
  if (to.mods.length === 0) return true;
  if (from.mods.length === 0) return false;
  if (to.name === "numeric") {
    return to.mods[0] >= from.mods[0] && (to.mods[1] ?? 0) === (from.mods[1] ?? 0);
  }
  return to.mods[0] >= from.mods[0];
}

/** Functions PostgreSQL marks volatile that appear in defaults. */
const VOLATILE = new Set([
  "random",
  "gen_random_uuid",
  "uuid_generate_v1",
  "uuid_generate_v1mc",
  "uuid_generate_v4",
  "uuidv4",
  "uuidv7",
  "clock_timestamp",
  "timeofday",
  "nextval",
  "txid_current",
  "pg_current_xact_id",
  "random_normal",
  "setseed",
]);

/** Functions that are stable or immutable (safe in a default since PostgreSQL 11). */
const NOT_VOLATILE = new Set([
  "now",
  "transaction_timestamp",
  "statement_timestamp",
  "current_setting",
  "lower",
  "upper",
  "trim",
  "btrim",
  "concat",
  "coalesce",
  "make_date",
  "make_timestamp",
  "make_timestamptz",
  "make_interval",
  "to_timestamp",
  "to_date",
  "to_char",
  "jsonb_build_object",
  "jsonb_build_array",
  "json_build_object",
  "json_build_array",
  "array_fill",
  "md5",
  "length",
  "date_trunc",
  "timezone",
  "current_date",
]);

/**
 * How volatile an expression is, as far as its function names tell:
 * `volatile` when it calls a known volatile function (or `nextval`),
 * `unknown` when it calls a function strata does not know (a user's own),
 * else `stable` (constants, casts, operators, CURRENT_TIMESTAMP, `now()`).
 */
export function volatility(expr: Tree): "volatile" | "unknown" | "stable" {
  let result: "volatile" | "unknown" | "stable" = "stable";
  walk(expr, (key, value) => {
    if (key !== "FuncCall") return;
    const fn = (names(field(value, "funcname")).at(-1) ?? "").toLowerCase();
    if (VOLATILE.has(fn)) result = "volatile";
    else if (!NOT_VOLATILE.has(fn) && result === "stable") result = "unknown";
  });
  return result;
}

/** Call `visit(key, value)` for every keyed node under `node`. */
export function walk(node: Tree, visit: (key: string, value: Tree) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (typeof node === "object" && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      visit(k, v);
      walk(v, visit);
    }
  }
}

/** `col IS NOT NULL` as a CHECK expression: the column, else undefined. */
export function notNullColumn(expr: Tree): string | undefined {
  const test = field(expr, "NullTest");
  if (str(field(test, "nulltesttype")) !== "IS_NOT_NULL") return undefined;
  const fields = names(path(test, "arg", "ColumnRef", "fields"));
  return fields.length === 1 ? fields[0] : undefined;
}

/** `DefElem` options as a name set, leaving out those switched off (`(CONCURRENTLY false)`). */
export function optionNames(options: Tree): Set<string> {
  const out = new Set<string>();
  for (const o of list(options)) {
    const name = str(path(o, "DefElem", "defname"));
    const arg = path(o, "DefElem", "arg");
    const off = field(arg, "Boolean") !== undefined && !flag(path(arg, "Boolean", "boolval")) ||
      ["false", "off", "0"].includes(String(path(arg, "String", "sval")).toLowerCase()) ||
      (field(arg, "Integer") !== undefined && !path(arg, "Integer", "ival"));
    if (name !== undefined && !off) out.add(name.toLowerCase());
  }
  return out;
}

/** One ALTER TABLE subcommand: its subtype and body. */
export interface AlterCommand {
  readonly subtype: string;
  readonly name: string | undefined;
  readonly def: Tree;
}

/** The subcommands of an ALTER TABLE. */
export function alterCommands(body: Tree): AlterCommand[] {
  return list(field(body, "cmds")).map((c) => {
    const cmd = field(c, "AlterTableCmd");
    return {
      subtype: str(field(cmd, "subtype")) ?? "",
      name: str(field(cmd, "name")),
      def: field(cmd, "def"),
    };
  });
}

/** The table an ALTER TABLE changes, or undefined for ALTER INDEX / VIEW / SEQUENCE. */
export function alteredTable(body: Tree): string | undefined {
  const kind = str(field(body, "objtype"));
  return kind === "OBJECT_TABLE" ? rangeVarKey(field(body, "relation")) : undefined;
}
