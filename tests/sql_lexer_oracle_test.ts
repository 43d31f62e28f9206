/**
 * Oracle test: `splitStatements` must end statements where PostgreSQL's own
 * parser does, and classify them as the parse tree says. The oracle is
 * libpg-query (PostgreSQL 17's parser in WebAssembly); a seeded generator
 * writes valid migration files from every construct the lexer knows.
 *
 * One known difference between libpg-query and the server is worked around:
 * libpg-query keeps comments as tokens, so it rejects a `--` comment between
 * the parts of a string continued across a newline, which the server (scan.l
 * {quotecontinue}) accepts (https://github.com/pganalyze/libpg_query/issues/365).
 * The parser is given the same file with those comments blanked to spaces:
 * same offsets, same meaning to the server. For the same reason it rejects a
 * comment before or after UESCAPE (the server accepts one), so the generator
 * writes only white space there.
 */

import assert from "node:assert/strict";
import { loadModule, parseSync } from "libpg-query";
import { findLineComments, splitStatements, type Statement } from "../lib/core/sql_lexer.ts";
import type { StatementKind } from "../lib/core/sql_classify.ts";

await loadModule();

const FILES = 1000;
const FIRST_SEED = 1;

// ---- generated text ---------------------------------------------------------

/** Text for the lexer, the same text for the parser, and where its `--` comments start. */
interface Part {
  readonly text: string;
  /** What libpg-query is given: `text` with continuation-gap comments blanked (same length). */
  readonly parser: string;
  readonly comments: readonly number[];
  /** Holds a string continued across a newline (its normalized text is not re-parseable). */
  readonly continued: boolean;
}

function part(text: string): Part {
  return { text, parser: text, comments: [], continued: false };
}

function cat(...parts: Part[]): Part {
  let text = "";
  let parser = "";
  const comments: number[] = [];
  let continued = false;
  for (const p of parts) {
    for (const c of p.comments) comments.push(text.length + c);
    text += p.text;
    parser += p.parser;
    continued ||= p.continued;
  }
  return { text, parser, comments, continued };
}

type Rng = () => number;

// A small seeded generator (mulberry32), so a failing file can be rebuilt from its seed.
function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(r: Rng, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

function chance(r: Rng, p: number): boolean {
  return r() < p;
}

/** Upper, lower or capitalised: keywords are case-insensitive. */
function kw(r: Rng, words: string): string {
  const form = r();
  if (form < 0.5) return words;
  if (form < 0.85) return words.toLowerCase();
  return words.toLowerCase().replace(/\b\w/g, (c) => c.toUpperCase());
}

// Pieces of literal and comment text: everything that could end a token too early.
const TRICKY = "; ' \" -- /* */ $$ $x$ ( ) é 漢字 😀".split(" ").concat([" ", "\n"]);
const PLAIN_TEXT = ["a", "Zz", "1", " ", "begin", "end;", "COMMIT;", ",", ".", "\\", "\t"];

/** Random text from `alphabet`, 0 to `max` pieces. */
function text(
  r: Rng,
  max: number,
  alphabet: readonly string[] = [...TRICKY, ...PLAIN_TEXT],
): string {
  return Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(r, alphabet)).join("");
}

function lineComment(r: Rng, ascii = false): Part {
  const body = ascii ? text(r, 5, [";", "'", "$$", "/*", "x", " ", "--", '"']) : text(r, 6);
  return { ...part(`-- ${body.replaceAll("\n", " ")}\n`), comments: [0] };
}

function blockComment(r: Rng): string {
  const inner = text(r, 4).replaceAll("*/", "* /").replaceAll("/*", "/ *");
  return chance(r, 0.3) ? `/* ${inner} /* nested; ' */ ${inner} */` : `/* ${inner} */`;
}

/** White space or comments between two tokens: never empty, never gluing tokens. */
function gap(r: Rng): Part {
  const x = r();
  if (x < 0.6) return part(" ");
  if (x < 0.7) return part(pick(r, ["\n", "\n    ", "\t", "  \n\n "]));
  if (x < 0.85) return part(` ${blockComment(r)} `);
  return cat(part(" "), lineComment(r), part(pick(r, ["", "  "])));
}

// ---- literals ----------------------------------------------------------------

function quoteBody(r: Rng, max: number): string {
  return text(r, max).replaceAll("'", "''");
}

/** E'' contents: characters without backslash or quote, and valid escapes. */
function escapeBody(r: Rng, max: number): string {
  const safe = [...TRICKY, ...PLAIN_TEXT].filter((s) => s !== "'" && s !== "\\");
  const escapes = ["\\'", "\\\\", "\\n", "\\t", "''", "\\x41", "\\101", "\\u00e9", "\\;", "\\\n"];
  return Array.from(
    { length: Math.floor(r() * (max + 1)) },
    () => chance(r, 0.4) ? pick(r, escapes) : pick(r, safe),
  ).join("");
}

/** ` UESCAPE '!'`: only white space around it, see the module doc. */
function uescape(r: Rng): Part[] {
  const space = () => part(pick(r, [" ", "\n", "  "]));
  return [space(), part(kw(r, "UESCAPE")), space(), part("'!'")];
}

function unicodeBody(r: Rng, escape: string): string {
  const safe = ["a", " ", ";", "é", "--", "/*", "''", "\n"];
  const escapes = [`${escape}0061`, `${escape}00e9`, `${escape}+01F600`, `${escape}${escape}`];
  return Array.from(
    { length: Math.floor(r() * 5) },
    () => chance(r, 0.4) ? pick(r, escapes) : pick(r, safe),
  ).join("");
}

function bitBody(r: Rng, digits: string): string {
  return Array.from({ length: Math.floor(r() * 6) }, () => pick(r, [...digits])).join("");
}

/** The gap of a continuation: white space and ASCII `--` comments holding a newline. */
function continuationGap(r: Rng): Part {
  const blank = (p: Part): Part => ({ ...p, parser: p.text.replace(/[^\n]/g, " ") });
  const parts: Part[] = [part(pick(r, ["", " ", "\t"]))];
  if (chance(r, 0.3)) parts.push(blank(lineComment(r, true)));
  else parts.push(part("\n"));
  for (let i = Math.floor(r() * 3); i > 0; i--) {
    parts.push(chance(r, 0.5) ? part(pick(r, ["  ", "\n", "\t"])) : blank(lineComment(r, true)));
  }
  return cat(...parts);
}

const STRING_FORMS = ["plain", "plain", "E", "E", "B", "X", "N", "U&", "U&!"];
/** The forms the grammar takes where it wants a character string (Sconst). */
const SCONST_FORMS = ["plain", "E", "U&", "U&!"];

/** A string literal, sometimes continued across newlines; every part keeps the first part's mode. */
function stringLiteral(r: Rng, forms = STRING_FORMS): Part {
  const form = pick(r, forms);
  const body = (): string => {
    switch (form) {
      case "E":
        return escapeBody(r, 6);
      case "B":
        return bitBody(r, "01");
      case "X":
        return bitBody(r, "0123456789abcdefABCDEF");
      case "U&":
        return unicodeBody(r, "\\");
      case "U&!":
        return unicodeBody(r, "!");
      default:
        return quoteBody(r, 6);
    }
  };
  const prefix = form === "plain"
    ? ""
    : form === "U&!"
    ? "U&"
    : pick(r, [form, form.toLowerCase()]);
  const parts: Part[] = [part(`${prefix}'${body()}'`)];
  const continuations = chance(r, 0.3) ? 1 + Math.floor(r() * 2) : 0;
  for (let i = 0; i < continuations; i++) parts.push(continuationGap(r), part(`'${body()}'`));
  if (form === "U&!") parts.push(...uescape(r));
  return { ...cat(...parts), continued: continuations > 0 };
}

function dollarLiteral(r: Rng): Part {
  const tag = pick(r, ["", "", "x", "body", "fn_1", "é", "tag漢"]);
  const delimiter = `$${tag}$`;
  const alphabet = [...TRICKY, ...PLAIN_TEXT, "$y$", "$", "'", "BEGIN ATOMIC", "END;"];
  for (;;) {
    const body = text(r, 8, tag === "" ? alphabet.filter((s) => !s.includes("$")) : alphabet);
    if ((body + delimiter).indexOf(delimiter) === body.length) {
      return part(delimiter + body + delimiter);
    }
  }
}

function quotedIdentifier(r: Rng): string {
  const body = text(r, 5, [...TRICKY, "a", "end", "case"]).replaceAll('"', '""');
  return `"${body === "" ? "x" : body}"`;
}

function identifier(r: Rng): Part {
  const x = r();
  if (x < 0.45) return part(pick(r, ["t", "users", "a_1", "col$1", "café", "漢字", "😀x"]));
  if (x < 0.65) return part(pick(r, ["begin", "atomic", "Begin", "ATOMIC"]));
  if (x < 0.9) return part(quotedIdentifier(r));
  if (x < 0.95) return part('"end"');
  return cat(part('U&"d!0061t"'), ...uescape(r));
}

function literal(r: Rng): Part {
  const x = r();
  if (x < 0.55) return stringLiteral(r);
  if (x < 0.7) return dollarLiteral(r);
  return part(pick(r, ["1", "42", "1.5", "1e3", "$1", "NULL", "true"]));
}

// ---- statements ---------------------------------------------------------------

/** One token, or several joined by random gaps. */
type Tok = string | Part;

/** Punctuation that may touch its neighbours: `f('a',$1::text)`. */
const TIGHT = new Set(["(", ")", ",", "::", ";"]);

function seq(r: Rng, tokens: readonly Tok[]): Part {
  const parts: Part[] = [];
  tokens.forEach((t, i) => {
    const isTight = TIGHT.has(t as string) || TIGHT.has(tokens[i - 1] as string);
    if (i > 0 && !(isTight && chance(r, 0.5))) parts.push(gap(r));
    parts.push(typeof t === "string" ? part(t) : t);
  });
  return cat(...parts);
}

function expr(r: Rng, depth = 0): Part {
  const x = depth > 2 ? r() * 0.5 : r();
  if (x < 0.3) return literal(r);
  if (x < 0.5) return identifier(r);
  if (x < 0.6) {
    const operator = pick(r, ["+", "||", "=", "<>", "-"]);
    return seq(r, ["(", expr(r, depth + 1), ")", operator, literal(r)]);
  }
  if (x < 0.7) return seq(r, ["(", expr(r, depth + 1), ")"]);
  if (x < 0.8) return seq(r, [identifier(r), "::", "text"]);
  if (x < 0.9) {
    return seq(r, [
      kw(r, "CASE"),
      kw(r, "WHEN"),
      expr(r, depth + 1),
      kw(r, "THEN"),
      expr(r, depth + 1),
      kw(r, "ELSE"),
      literal(r),
      kw(r, "END"),
    ]);
  }
  return seq(r, [pick(r, ["lower", "coalesce", "begin"]), "(", expr(r, depth + 1), ")"]);
}

function list(r: Rng, max: number, make: () => Part): Part[] {
  const out: Part[] = [];
  for (let i = 0, n = 1 + Math.floor(r() * max); i < n; i++) {
    if (i > 0) out.push(part(","));
    out.push(make());
  }
  return out;
}

function select(r: Rng): Part {
  const tokens: Tok[] = [kw(r, "SELECT"), ...list(r, 3, () => expr(r))];
  if (chance(r, 0.5)) tokens.push(kw(r, "FROM"), identifier(r));
  if (chance(r, 0.3)) tokens.push(kw(r, "WHERE"), expr(r));
  if (chance(r, 0.2)) tokens.push(kw(r, "ORDER BY"), pick(r, ["begin", "atomic", "1"]));
  return seq(r, tokens);
}

/** Statements a BEGIN ATOMIC body holds, with END, CASE and BEGIN where they trip heuristics. */
const BODY_STATEMENTS = `SELECT 1 AS END
SELECT t.end , t.case FROM t
SELECT 1 END
SELECT "end" - begin FROM t ORDER BY begin
SELECT atomic FROM begin
SELECT CASE WHEN begin THEN 1 END AS END FROM t`.split("\n");

function bodyStatement(r: Rng): Part {
  if (chance(r, 0.4)) return words(r, pick(r, BODY_STATEMENTS));
  if (chance(r, 0.5)) return select(r);
  return seq(r, [
    kw(r, "INSERT INTO"),
    "t",
    kw(r, "VALUES"),
    "(",
    ...list(r, 3, () => expr(r)),
    ")",
  ]);
}

function atomicRoutine(r: Rng): Part {
  const create = kw(r, pick(r, ["CREATE", "CREATE OR REPLACE"]));
  const isFunction = chance(r, 0.7);
  const tokens: Tok[] = [
    create,
    kw(r, isFunction ? "FUNCTION" : "PROCEDURE"),
    identifier(r),
    "(",
    ")",
  ];
  if (isFunction) tokens.push(kw(r, "RETURNS"), pick(r, ["int", "text", "begin"]));
  tokens.push(kw(r, "LANGUAGE"), "sql");
  if (chance(r, 0.4)) tokens.push(kw(r, "SET"), "search_path", "=", pick(r, ["begin", "atomic"]));
  tokens.push(kw(r, "BEGIN"), kw(r, "ATOMIC"));
  for (let i = Math.floor(r() * 4); i > 0; i--) tokens.push(bodyStatement(r), ";");
  tokens.push(kw(r, "END"));
  return seq(r, tokens);
}

function otherRoutine(r: Rng): Part {
  const name = pick(r, ["begin", "begin.atomic", "atomic", "f"]);
  const head: Tok[] = [kw(r, "CREATE FUNCTION"), name, "(", pick(r, ["", "begin int"]), ")"];
  head.push(kw(r, "RETURNS"), pick(r, ["int", "begin"]), kw(r, "LANGUAGE"), "sql");
  if (chance(r, 0.5)) head.push(kw(r, "SET"), "search_path", "=", "begin");
  if (chance(r, 0.5)) return seq(r, [...head, kw(r, "RETURN"), expr(r)]);
  return seq(r, [...head, kw(r, "AS"), dollarLiteral(r)]);
}

function rule(r: Rng): Part {
  const actions: Tok[] = [];
  for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) {
    if (i > 0) actions.push(";");
    actions.push(
      chance(r, 0.5)
        ? seq(r, [kw(r, "INSERT INTO"), "a", kw(r, "VALUES"), "(", literal(r), ")"])
        : seq(r, [kw(r, "UPDATE"), "b", kw(r, "SET"), "x", "=", literal(r)]),
    );
  }
  if (chance(r, 0.3)) actions.push(";");
  return seq(r, [
    kw(r, "CREATE RULE"),
    "r",
    kw(r, "AS ON INSERT TO"),
    "t",
    kw(r, "DO"),
    kw(r, pick(r, ["ALSO", "INSTEAD"])),
    "(",
    ...actions,
    ")",
  ]);
}

function createTable(r: Rng): Part {
  const column = () => {
    const tokens: Tok[] = [identifier(r), pick(r, ["int", "text", "bit varying", "bytea"])];
    if (chance(r, 0.4)) tokens.push(kw(r, "DEFAULT"), literal(r));
    if (chance(r, 0.2)) tokens.push(kw(r, "CHECK"), "(", expr(r), ")");
    return seq(r, tokens);
  };
  return seq(r, [kw(r, "CREATE TABLE"), identifier(r), "(", ...list(r, 3, column), ")"]);
}

function ordinary(r: Rng): Part {
  return pick<() => Part>(r, [
    () => select(r),
    () => createTable(r),
    () =>
      seq(r, [
        kw(r, "INSERT INTO"),
        identifier(r),
        kw(r, "VALUES"),
        ...list(r, 3, () => seq(r, ["(", ...list(r, 3, () => expr(r)), ")"])),
      ]),
    () => seq(r, [kw(r, "UPDATE"), identifier(r), kw(r, "SET"), "c", "=", expr(r)]),
    () =>
      seq(r, [
        kw(r, "COMMENT ON TABLE"),
        identifier(r),
        kw(r, "IS"),
        chance(r, 0.7) ? stringLiteral(r, SCONST_FORMS) : dollarLiteral(r),
      ]),
    () => seq(r, [kw(r, "DO"), dollarLiteral(r)]),
    () => seq(r, [kw(r, "CREATE INDEX"), "i", kw(r, "ON"), "t", "(", identifier(r), ")"]),
    () => seq(r, [kw(r, "ANALYZE"), identifier(r)]),
    () => atomicRoutine(r),
    () => atomicRoutine(r),
    () => otherRoutine(r),
    () => rule(r),
  ])();
}

const TRANSACTION_CONTROL = `BEGIN
BEGIN WORK
BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE
BEGIN READ ONLY
START TRANSACTION
START TRANSACTION READ WRITE
COMMIT
COMMIT WORK
COMMIT AND CHAIN
END
END TRANSACTION
ROLLBACK
ROLLBACK AND NO CHAIN
ABORT
SAVEPOINT s
RELEASE SAVEPOINT s
RELEASE s
ROLLBACK TO SAVEPOINT s
ROLLBACK TO s
PREPARE TRANSACTION 'x'
COMMIT PREPARED 'x'
ROLLBACK PREPARED 'x'`.split("\n");

/** Statements in or near the no-transaction list, as words to join with random gaps. */
const SPECIAL = `CREATE INDEX CONCURRENTLY i ON t ( a )
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t ( a ) WHERE a > 0
CREATE INDEX CONCURRENTLY ON begin ( atomic )
DROP INDEX CONCURRENTLY IF EXISTS i
DROP INDEX i
REINDEX TABLE CONCURRENTLY t
REINDEX ( VERBOSE ) INDEX CONCURRENTLY i
REINDEX ( CONCURRENTLY ) TABLE t
REINDEX ( VERBOSE , CONCURRENTLY false ) TABLE t
REINDEX ( TABLESPACE database ) TABLE t
REINDEX TABLE system
REINDEX INDEX database
REINDEX SCHEMA s
REINDEX SCHEMA CONCURRENTLY s
REINDEX DATABASE d
REINDEX SYSTEM
VACUUM
VACUUM t
VACUUM ( ANALYZE , VERBOSE ) t
VACUUM FULL begin
ANALYZE
CREATE DATABASE d
DROP DATABASE IF EXISTS d WITH ( FORCE )
CREATE TABLESPACE s LOCATION '/x'
DROP TABLESPACE s
ALTER TABLESPACE s RENAME TO s2
ALTER SYSTEM SET work_mem = '8MB'
ALTER SYSTEM RESET ALL
ALTER TABLE p DETACH PARTITION c CONCURRENTLY
ALTER TABLE p DETACH PARTITION c
ALTER TABLE p DETACH PARTITION c FINALIZE
ALTER DATABASE d SET TABLESPACE s
ALTER DATABASE d SET work_mem = 1
DISCARD ALL
DISCARD PLANS
CLUSTER
CLUSTER VERBOSE
CLUSTER ( VERBOSE )
CLUSTER t
CLUSTER "t" USING i
CREATE SUBSCRIPTION s CONNECTION 'dbname=x' PUBLICATION p
DROP SUBSCRIPTION s
ALTER SUBSCRIPTION s REFRESH PUBLICATION
ALTER SUBSCRIPTION s SET PUBLICATION p
ALTER SUBSCRIPTION s ADD PUBLICATION p WITH ( refresh = false )
ALTER SUBSCRIPTION s ENABLE
REFRESH MATERIALIZED VIEW CONCURRENTLY v
CALL p ( )
SET search_path = begin , public
GRANT SELECT ON begin TO atomic`.split("\n");

function words(r: Rng, statement: string): Part {
  return seq(r, statement.split(" ").map((w) => (/^[A-Z]+$/.test(w) ? kw(r, w) : w)));
}

function statement(r: Rng): Part {
  const x = r();
  if (x < 0.15) return words(r, pick(r, TRANSACTION_CONTROL));
  if (x < 0.35) return words(r, pick(r, SPECIAL));
  return ordinary(r);
}

// ---- files ------------------------------------------------------------------------

interface GenStatement {
  /** White space, comments and empty statements before the first token. */
  readonly lead: Part;
  /** From the first token to the last. */
  readonly body: Part;
  /** `;`, or "" for a last statement without one. */
  readonly end: string;
}

interface GenFile {
  readonly seed: number;
  readonly statements: readonly GenStatement[];
  readonly tail: Part;
}

function comment(text: string): Part {
  return { ...part(text), comments: [0] };
}

function lead(r: Rng, first: boolean): Part {
  const parts: Part[] = [part(first ? "" : pick(r, ["\n", "\n\n", " ", ""]))];
  if (first && chance(r, 0.3)) {
    parts.push(comment("-- message: généré; it's\n"), comment("-- created: x\n"), part("\n"));
  }
  for (let i = Math.floor(r() * 3); i > 0; i--) {
    parts.push(
      pick<() => Part>(r, [
        () => lineComment(r),
        () => part(`${blockComment(r)}\n`),
        () => part(";\n"),
        () => part("  "),
      ])(),
    );
  }
  return cat(...parts);
}

function generateFile(seed: number): GenFile {
  const r = prng(seed);
  const statements: GenStatement[] = [];
  const count = 1 + Math.floor(r() * 15);
  for (let i = 0; i < count; i++) {
    const last = i === count - 1;
    statements.push({
      lead: lead(r, i === 0),
      body: statement(r),
      end: last && chance(r, 0.3) ? "" : ";",
    });
  }
  const tail = pick<() => Part>(r, [
    () => part(""),
    () => part("\n"),
    () => cat(part("\n"), lineComment(r)),
    () => part(`\n${blockComment(r)}`),
    () => cat(part("\n"), comment("-- no newline at the end; '")),
  ])();
  return { seed, statements, tail };
}

interface Assembled {
  readonly text: string;
  readonly parser: string;
  readonly comments: readonly number[];
  /** Index of each statement's first token, and whether its text holds a continued string. */
  readonly starts: readonly number[];
  readonly continued: readonly boolean[];
}

function assemble(file: GenFile): Assembled {
  const parts: Part[] = [];
  const starts: number[] = [];
  let length = 0;
  for (const s of file.statements) {
    starts.push(length + s.lead.text.length);
    parts.push(s.lead, s.body, part(s.end));
    length += s.lead.text.length + s.body.text.length + s.end.length;
  }
  const all = cat(...parts, file.tail);
  return {
    text: all.text,
    parser: all.parser,
    comments: all.comments,
    starts,
    continued: file.statements.map((s) => s.body.continued),
  };
}

// ---- the oracle -------------------------------------------------------------------

// deno-lint-ignore no-explicit-any
type Node = any;

/** What the lexer must say of a statement, from its parse tree (see `classifyWords`). */
function expectedKind(stmt: Node): StatementKind {
  const [type, node] = Object.entries(stmt)[0] as [string, Node];
  switch (type) {
    case "TransactionStmt":
      return "transaction-control";
    case "IndexStmt":
    case "DropStmt":
      return node.concurrent ? "no-transaction" : "sql";
    case "VacuumStmt":
      return node.is_vacuumcmd ? "no-transaction" : "sql";
    case "CreatedbStmt":
    case "DropdbStmt":
    case "CreateTableSpaceStmt":
    case "DropTableSpaceStmt":
    case "AlterSystemStmt":
    case "CreateSubscriptionStmt":
    case "DropSubscriptionStmt":
      return "no-transaction";
    case "ReindexStmt":
      return node.kind !== "REINDEX_OBJECT_TABLE" && node.kind !== "REINDEX_OBJECT_INDEX" ||
          isOptionOn(node.params, "concurrently")
        ? "no-transaction"
        : "sql";
    case "ClusterStmt":
      return node.relation ? "sql" : "no-transaction";
    case "DiscardStmt":
      return node.target === "DISCARD_ALL" ? "no-transaction" : "sql";
    case "AlterTableStmt":
      return (node.cmds ?? []).some((c: Node) =>
          c.AlterTableCmd.subtype === "AT_DetachPartition" &&
          c.AlterTableCmd.def.PartitionCmd.concurrent
        )
        ? "no-transaction"
        : "sql";
    case "AlterDatabaseStmt":
      return (node.options ?? []).some((o: Node) => o.DefElem.defname === "tablespace")
        ? "no-transaction"
        : "sql";
    case "AlterSubscriptionStmt":
      return node.kind === "ALTER_SUBSCRIPTION_REFRESH" ||
          (/_PUBLICATION$/.test(node.kind) && isOptionOn(node.options, "refresh", true))
        ? "no-transaction"
        : "sql";
  }
  return "sql";
}

function isOptionOn(options: Node[] | undefined, name: string, byDefault = false): boolean {
  const option = (options ?? []).find((o: Node) => o.DefElem.defname === name);
  if (!option) return byDefault;
  const arg = option.DefElem.arg;
  if (!arg) return true;
  const value = String(arg.String?.sval ?? arg.Boolean?.boolval ?? arg.Integer?.ival ?? "true");
  return !["false", "off", "0"].includes(value.toLowerCase());
}

/** The parse tree without positions, to compare two spellings of one statement. */
function shape(sql: string): string {
  return JSON.stringify(
    parseSync(sql).stmts.map((s: Node) => s.stmt),
    (key, value) => (/location$/.test(key) || key === "stmt_len" ? undefined : value),
  );
}

function isSameStatement(normalized: string, original: string): boolean {
  try {
    return shape(normalized) === shape(original);
  } catch {
    return false;
  }
}

function utf8Offsets(text: string): Int32Array {
  const out = new Int32Array(text.length + 1);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out[i + 1] = out[i] + (c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3);
  }
  return out;
}

/** Every disagreement between the lexer, the parser and the generator on one file. */
function check(file: GenFile, kinds?: Map<string, number>): string[] {
  const a = assemble(file);
  let parsed: Node;
  try {
    parsed = parseSync(a.parser);
  } catch (err) {
    return [`the generator wrote invalid SQL: ${(err as Error).message}`];
  }
  let chunks: Statement[];
  try {
    chunks = splitStatements(a.text);
  } catch (err) {
    return [`the lexer refused valid SQL: ${(err as Error).message}`];
  }
  const problems: string[] = [];
  if (chunks.map((c) => a.text.slice(c.start, c.end)).join("") !== a.text) {
    problems.push("chunks do not rebuild the text");
  }
  const real = chunks.filter((c) => !c.isEmpty);
  for (const c of real) kinds?.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
  const stmts: Node[] = parsed.stmts;
  if (real.length !== stmts.length || stmts.length !== a.starts.length) {
    return [
      ...problems,
      `lexer ${real.length}, parser ${stmts.length}, generator ${a.starts.length} statements`,
    ];
  }
  const bytes = utf8Offsets(a.text);
  real.forEach((chunk, k) => problems.push(...compare(chunk, stmts[k], { a, bytes, k })));
  const comments = findLineComments(a.text);
  if (JSON.stringify(comments) !== JSON.stringify(a.comments)) {
    problems.push(
      `line comments ${JSON.stringify(comments)}, expected ${JSON.stringify(a.comments)}`,
    );
  }
  return problems;
}

function compare(
  chunk: Statement,
  stmt: Node,
  at: { a: Assembled; bytes: Int32Array; k: number },
): string[] {
  const { a, bytes, k } = at;
  const out: string[] = [];
  const where = `statement ${k + 1}`;
  const location = stmt.stmt_location ?? 0;
  if (bytes[chunk.start] !== location) {
    out.push(`${where}: lexer starts at byte ${bytes[chunk.start]}, parser at ${location}`);
  }
  const end = stmt.stmt_len ? location + stmt.stmt_len : -1;
  const lexerEnd = a.text[chunk.end - 1] === ";" ? bytes[chunk.end - 1] : -1;
  if (end !== lexerEnd || (end === -1 && chunk.end !== a.text.length)) {
    out.push(`${where}: lexer ends at byte ${lexerEnd}, parser at ${end} (-1: end of text)`);
  }
  if (chunk.sqlStart !== a.starts[k]) {
    out.push(`${where}: first token at ${chunk.sqlStart}, generator put it at ${a.starts[k]}`);
  }
  const kind = expectedKind(stmt.stmt);
  if (chunk.kind !== kind) out.push(`${where}: kind ${chunk.kind}, parse tree says ${kind}`);
  if (
    !a.continued[k] && !isSameStatement(chunk.normalized, a.text.slice(chunk.sqlStart, chunk.end))
  ) {
    out.push(`${where}: normalized text ${JSON.stringify(chunk.normalized)} parses differently`);
  }
  return out;
}

/** Drop statements while the file still fails, to show the smallest failing file. */
function shrink(file: GenFile): GenFile {
  let current = file;
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < current.statements.length && current.statements.length > 1; i++) {
      const statements = current.statements.filter((_, j) => j !== i);
      const last = statements.length - 1;
      statements[last] = { ...statements[last], end: ";" };
      const candidate = { ...current, statements };
      if (check(candidate).length > 0) {
        current = candidate;
        changed = true;
        i--;
      }
    }
  }
  return current;
}

Deno.test("splitStatements() agrees with PostgreSQL's parser on 1000 generated migration files", () => {
  const kinds = new Map<string, number>();
  let statements = 0;
  let continued = 0;
  const failures: Array<{ seed: number; problems: string[] }> = [];
  for (let seed = FIRST_SEED; seed < FIRST_SEED + FILES; seed++) {
    const file = generateFile(seed);
    const problems = check(file, kinds);
    if (problems.length > 0) failures.push({ seed, problems });
    statements += file.statements.length;
    continued += file.statements.filter((s) => s.body.continued).length;
  }
  console.log(
    `oracle: ${FILES} files, ${statements} statements compared (${
      [...kinds].map(([k, n]) => `${n} ${k}`).join(", ")
    }; ${continued} with continued strings), ${failures.length} files disagree`,
  );
  if (failures.length > 0) assert.fail(describeFailures(failures));
  assert.ok((kinds.get("transaction-control") ?? 0) > 100, "too few transaction control");
  assert.ok((kinds.get("no-transaction") ?? 0) > 100, "too few no-transaction statements");
  assert.ok(continued > 100, "the generator must write continued strings");
});

/** The first failing seed, and the smallest failing file after shrinking the first few. */
function describeFailures(failures: Array<{ seed: number; problems: string[] }>): string {
  const shrunk =
    failures.slice(0, 10).map((f) => ({ seed: f.seed, file: shrink(generateFile(f.seed)) }))
      .map((x) => ({ ...x, text: assemble(x.file).text }))
      .sort((x, y) => x.text.length - y.text.length)[0];
  const first = failures[0];
  return [
    `${failures.length} generated files disagree with the parser`,
    `first: seed ${first.seed}: ${first.problems.join("; ")}`,
    `smallest (seed ${shrunk.seed}, shrunk): ${JSON.stringify(shrunk.text)}`,
    `its problems: ${check(shrunk.file).join("; ")}`,
  ].join("\n");
}
