import assert from "node:assert/strict";
import { classifyWords, splitStatements, type StatementKind } from "../lib/core/sql_lexer.ts";
import { StrataError } from "../lib/core/errors.ts";

/** The non-empty statements of `input`, from their first token to their end. */
function stmts(input: string): string[] {
  return splitStatements(input).filter((s) => !s.isEmpty).map((s) =>
    input.slice(s.sqlStart, s.end)
  );
}

function kinds(input: string): StatementKind[] {
  return splitStatements(input).filter((s) => !s.isEmpty).map((s) => s.kind);
}

const SPLIT_CASES: Array<[string, string, string[]]> = [
  ["one statement", "SELECT 1;", ["SELECT 1;"]],
  ["last statement without semicolon", "SELECT 1", ["SELECT 1"]],
  ["two statements", "SELECT 1; SELECT 2;", ["SELECT 1;", "SELECT 2;"]],
  ["empty text", "", []],
  ["only white space", "  \n\t \n", []],
  ["only comments", "-- a\n/* b */\n-- c", []],
  ["empty statements", ";;  ;\n;", []],
  ["semicolon in string", "SELECT 'a;b'; SELECT 2", ["SELECT 'a;b';", "SELECT 2"]],
  ["doubled quote in string", "SELECT 'it''s; ok'; SELECT 2", ["SELECT 'it''s; ok';", "SELECT 2"]],
  ["E string with escaped quote", "SELECT E'a\\';b'; SELECT 2", ["SELECT E'a\\';b';", "SELECT 2"]],
  ["lower-case e string", "SELECT e'\\'; x'; SELECT 2", ["SELECT e'\\'; x';", "SELECT 2"]],
  ["E string ending in escaped backslash", "SELECT E'a\\\\'; SELECT 2", [
    "SELECT E'a\\\\';",
    "SELECT 2",
  ]],
  ["standard string keeps backslash literal", "SELECT 'a\\'; SELECT 2", [
    "SELECT 'a\\';",
    "SELECT 2",
  ]],
  ["U& string", "SELECT U&'d\\0061t;a'; SELECT 2", ["SELECT U&'d\\0061t;a';", "SELECT 2"]],
  ["U& identifier", 'SELECT U&"a;b"; SELECT 2', ['SELECT U&"a;b";', "SELECT 2"]],
  ["bit string", "SELECT B'10;1'; SELECT X'1;F'", ["SELECT B'10;1';", "SELECT X'1;F'"]],
  ["national string", "SELECT N'x;y'; SELECT 2", ["SELECT N'x;y';", "SELECT 2"]],
  ["quoted identifier", 'SELECT 1 AS "a;b"; SELECT 2', ['SELECT 1 AS "a;b";', "SELECT 2"]],
  ["doubled quote in identifier", 'SELECT 1 AS "a"";b"; SELECT 2', [
    'SELECT 1 AS "a"";b";',
    "SELECT 2",
  ]],
  ["dollar body", "DO $$ BEGIN PERFORM 1; END $$; SELECT 2", [
    "DO $$ BEGIN PERFORM 1; END $$;",
    "SELECT 2",
  ]],
  ["tagged dollar body holding $$", "SELECT $fn$ a; $$ b; $fn$; SELECT 2", [
    "SELECT $fn$ a; $$ b; $fn$;",
    "SELECT 2",
  ]],
  ["dollar tags are case-sensitive", "SELECT $a$ x; $A$ y; $a$; SELECT 2", [
    "SELECT $a$ x; $A$ y; $a$;",
    "SELECT 2",
  ]],
  ["parameter is not a tag", "SELECT $1; SELECT $2", ["SELECT $1;", "SELECT $2"]],
  ["identifier with dollar", "SELECT a$b$ FROM t; SELECT 2", ["SELECT a$b$ FROM t;", "SELECT 2"]],
  ["line comment with semicolon", "SELECT 1 -- x; y\n; SELECT 2", [
    "SELECT 1 -- x; y\n;",
    "SELECT 2",
  ]],
  ["line comment at end without newline", "SELECT 1; -- bye;", ["SELECT 1;"]],
  ["block comment with semicolon", "SELECT /* ; */ 1; SELECT 2", ["SELECT /* ; */ 1;", "SELECT 2"]],
  ["nested block comment", "SELECT /* a /* b; */ c; */ 1; SELECT 2", [
    "SELECT /* a /* b; */ c; */ 1;",
    "SELECT 2",
  ]],
  ["quote inside line comment", "-- it's\nSELECT 1; SELECT 2", ["SELECT 1;", "SELECT 2"]],
  ["quote inside block comment", "/* it's */ SELECT 1; SELECT 2", ["SELECT 1;", "SELECT 2"]],
  ["comment marker inside string", "SELECT '-- x; /* y'; SELECT 2", [
    "SELECT '-- x; /* y';",
    "SELECT 2",
  ]],
  ["quotes inside dollar body", 'SELECT $$ it\'s "x"; $$; SELECT 2', [
    'SELECT $$ it\'s "x"; $$;',
    "SELECT 2",
  ]],
  [
    "BEGIN ATOMIC body",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3;",
    [
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;",
      "SELECT 3;",
    ],
  ],
  [
    "CREATE OR REPLACE PROCEDURE with BEGIN ATOMIC",
    "create or replace procedure p() begin atomic insert into t values (1); end; select 1",
    ["create or replace procedure p() begin atomic insert into t values (1); end;", "select 1"],
  ],
  [
    "CASE ... END inside BEGIN ATOMIC",
    "CREATE FUNCTION f(x int) RETURNS int BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; END; SELECT 2",
    [
      "CREATE FUNCTION f(x int) RETURNS int BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; END;",
      "SELECT 2",
    ],
  ],
  ["BEGIN/COMMIT at top level split", "BEGIN; CREATE TABLE t (); COMMIT;", [
    "BEGIN;",
    "CREATE TABLE t ();",
    "COMMIT;",
  ]],
  [
    "semicolon inside parentheses",
    "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); SELECT 3",
    [
      "CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);",
      "SELECT 3",
    ],
  ],
  ["casts and operators", "SELECT 1::int; SELECT 'a' || 'b';", [
    "SELECT 1::int;",
    "SELECT 'a' || 'b';",
  ]],
  ["unicode text", "SELECT 'héllo; 😀'; SELECT '€'", ["SELECT 'héllo; 😀';", "SELECT '€'"]],
  ["CRLF line ends", "SELECT 1;\r\nSELECT 2;\r\n", ["SELECT 1;", "SELECT 2;"]],
  ["comment before statement", "-- head\n/* more */\nSELECT 1;", ["SELECT 1;"]],
  ["dollar body with tag-like text", "SELECT $x$ $y$ ; $x$; SELECT 2", [
    "SELECT $x$ $y$ ; $x$;",
    "SELECT 2",
  ]],
  ["numbers with exponent", "SELECT 1e10, 1.5; SELECT .5", ["SELECT 1e10, 1.5;", "SELECT .5"]],
  ["string right after keyword", "SELECT'a;b'; SELECT 2", ["SELECT'a;b';", "SELECT 2"]],
  ["E string prefix only as its own word", "SELECT type'x;y'; SELECT 2", [
    "SELECT type'x;y';",
    "SELECT 2",
  ]],
  [
    "function with plpgsql body",
    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n  RETURN NEW;\nEND;\n$body$;\nSELECT 1;",
    [
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $body$\nBEGIN\n  RETURN NEW;\nEND;\n$body$;",
      "SELECT 1;",
    ],
  ],
  ["multiple blank lines between statements", "SELECT 1;\n\n\n\nSELECT 2;", [
    "SELECT 1;",
    "SELECT 2;",
  ]],
];

for (const [name, input, expected] of SPLIT_CASES) {
  Deno.test(`splitStatements() splits: ${name}`, () => {
    assert.deepEqual(stmts(input), expected);
    const chunks = splitStatements(input);
    assert.equal(chunks.map((c) => input.slice(c.start, c.end)).join(""), input);
  });
}

const KIND_CASES: Array<[string, string, StatementKind[]]> = [
  ["BEGIN/COMMIT", "BEGIN; SELECT 1; COMMIT;", [
    "transaction-control",
    "sql",
    "transaction-control",
  ]],
  ["lower-case begin and end", "begin; select 1; end;", [
    "transaction-control",
    "sql",
    "transaction-control",
  ]],
  ["START TRANSACTION", "START TRANSACTION ISOLATION LEVEL SERIALIZABLE;", ["transaction-control"]],
  ["ROLLBACK, SAVEPOINT, RELEASE, ABORT", "SAVEPOINT a; RELEASE a; ROLLBACK TO a; ABORT;", [
    "transaction-control",
    "transaction-control",
    "transaction-control",
    "transaction-control",
  ]],
  ["PREPARE TRANSACTION", "PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x';", [
    "transaction-control",
    "transaction-control",
  ]],
  ["CREATE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY i ON t (a);", ["no-transaction"]],
  ["CREATE UNIQUE INDEX CONCURRENTLY", "create unique index concurrently i on t (a);", [
    "no-transaction",
  ]],
  ["DROP INDEX CONCURRENTLY", "DROP INDEX CONCURRENTLY IF EXISTS i;", ["no-transaction"]],
  [
    "REINDEX CONCURRENTLY",
    "REINDEX TABLE CONCURRENTLY t; REINDEX (VERBOSE) INDEX CONCURRENTLY i;",
    [
      "no-transaction",
      "no-transaction",
    ],
  ],
  ["REINDEX DATABASE", "REINDEX DATABASE app;", ["no-transaction"]],
  ["plain REINDEX", "REINDEX TABLE t;", ["sql"]],
  ["VACUUM", "VACUUM; VACUUM (ANALYZE) t;", ["no-transaction", "no-transaction"]],
  ["CREATE/DROP DATABASE", "CREATE DATABASE x; DROP DATABASE x;", [
    "no-transaction",
    "no-transaction",
  ]],
  ["CREATE/DROP TABLESPACE", "CREATE TABLESPACE s LOCATION '/x'; DROP TABLESPACE s;", [
    "no-transaction",
    "no-transaction",
  ]],
  ["ALTER SYSTEM", "ALTER SYSTEM SET work_mem = '8MB';", ["no-transaction"]],
  ["DETACH PARTITION CONCURRENTLY", "ALTER TABLE p DETACH PARTITION c CONCURRENTLY;", [
    "no-transaction",
  ]],
  [
    "ALTER DATABASE SET TABLESPACE",
    "ALTER DATABASE d SET TABLESPACE s; ALTER DATABASE d SET work_mem = 1;",
    [
      "no-transaction",
      "sql",
    ],
  ],
  ["plain CREATE INDEX", "CREATE INDEX i ON t (a);", ["sql"]],
  [
    "REFRESH MATERIALIZED VIEW CONCURRENTLY runs in a transaction",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY v;",
    ["sql"],
  ],
  ["psql \\set", "\\set x 1\nSELECT :x;", ["psql-meta"]],
  ["psql \\i", "SELECT 1;\n\\i other.sql\n", ["sql", "psql-meta"]],
  ["COPY FROM stdin", "COPY t (a) FROM stdin;", ["psql-copy"]],
  ["COPY from a file is SQL", "COPY t FROM '/tmp/x.csv'; COPY t TO STDOUT;", ["sql", "sql"]],
  ["word begin inside a string", "SELECT 'begin';", ["sql"]],
  ["BEGIN ATOMIC function is SQL", "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1; END;", [
    "sql",
  ]],
];

for (const [name, input, expected] of KIND_CASES) {
  Deno.test(`splitStatements() classifies: ${name}`, () => {
    assert.deepEqual(kinds(input), expected);
  });
}

const UNTERMINATED: Array<[string, string, number]> = [
  ["string", "SELECT 1;\nSELECT 'abc", 2],
  ["E string", "SELECT E'a\\'", 1],
  ["quoted identifier", 'SELECT 1;\n\nSELECT "abc', 3],
  ["dollar body", "SELECT 1;\nDO $x$ BEGIN END $y$;", 2],
  ["block comment", "SELECT 1; /* a /* b */", 1],
];

for (const [what, input, line] of UNTERMINATED) {
  Deno.test(`splitStatements() reports an unterminated ${what} with its line`, () => {
    assert.throws(() => splitStatements(input, { file: "0001_x.up.sql" }), (err: unknown) => {
      assert.ok(err instanceof StrataError);
      assert.equal(err.code, "SQL_UNTERMINATED");
      assert.equal(err.line, line);
      assert.match(err.message, /"0001_x\.up\.sql" line \d+: unterminated/);
      return true;
    });
  });
}

Deno.test("splitStatements() gives line, code-point column and byte offset of each statement", () => {
  const input = "-- é\nSELECT 'ü'; SELECT 2;\n  😀SELECT 3";
  const s = splitStatements(input).filter((c) => !c.isEmpty);
  assert.deepEqual(s.map((x) => [x.line, x.column]), [[2, 1], [2, 13], [3, 3]]);
  const enc = new TextEncoder();
  for (const x of s) assert.equal(x.byteOffset, enc.encode(input.slice(0, x.sqlStart)).length);
});

Deno.test("splitStatements() normalises tokens: comments dropped, white space folded", () => {
  const a = splitStatements("SELECT  a,\n\t b -- note\nFROM /* c */ t;")[0].normalized;
  const b = splitStatements("SELECT a, b FROM t;")[0].normalized;
  assert.equal(a, b);
  assert.notEqual(
    splitStatements("SELECT 'a  b';")[0].normalized,
    splitStatements("SELECT 'a b';")[0].normalized,
  );
});

Deno.test("classifyWords() treats unknown leading words as ordinary SQL", () => {
  assert.equal(classifyWords(["SELECT"]), "sql");
  assert.equal(classifyWords([]), "sql");
});

// A small seeded generator, so a failing case can be reproduced from its seed.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES: Array<(r: () => number) => string> = [
  () => "SELECT",
  () => "foo_1",
  (r) => String(Math.floor(r() * 1000)),
  () => "'a;b''c'",
  () => "E'x\\';y'",
  () => "U&'u;'",
  () => '"id;""x"',
  () => "$$ body; 'q' $$",
  () => "$fn$ a; $$ b; $fn$",
  () => "-- note; it's\n",
  () => "/* c; /* nested; */ ' */",
  () => "(1, ';')",
  () => "$1",
  () => "x::int",
];

Deno.test("splitStatements() property: chunks rebuild the input and split only at real terminators", () => {
  for (let seed = 1; seed <= 400; seed++) {
    const r = prng(seed);
    let text = "";
    const cuts: number[] = [];
    const statementCount = 1 + Math.floor(r() * 5);
    for (let s = 0; s < statementCount; s++) {
      const pieces = 1 + Math.floor(r() * 6);
      for (let p = 0; p < pieces; p++) text += PIECES[Math.floor(r() * PIECES.length)](r) + " ";
      text += ";";
      cuts.push(text.length);
      text += r() < 0.5 ? "\n" : " ";
    }
    const chunks = splitStatements(text);
    assert.equal(chunks.map((c) => text.slice(c.start, c.end)).join(""), text, `seed ${seed}`);
    const ends = chunks.map((c) => c.end).filter((e) => e !== text.length);
    assert.deepEqual(
      ends,
      cuts.filter((c) => c !== text.length),
      `seed ${seed}: ${JSON.stringify(text)}`,
    );
  }
});
