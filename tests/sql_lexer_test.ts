import assert from "node:assert/strict";
import { findLineComments, splitStatements } from "../lib/core/sql_lexer.ts";
import { classifyWords, type StatementKind } from "../lib/core/sql_classify.ts";
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

// String continuation (scan.l {quotecontinue}): two literals separated by white
// space holding a newline are one literal, read on in the first part's mode.
// Checked on PostgreSQL 15: the cases without a continuation that put two
// literals side by side are syntax errors there, as two literals should be.
const CONTINUATION_CASES: Array<[string, string, string[]]> = [
  [
    "E string continued: the COMMIT is a statement, not part of a string",
    "SELECT E'x'\n'\\''; COMMIT; SELECT 1; -- '",
    ["SELECT E'x'\n'\\'';", "COMMIT;", "SELECT 1;"],
  ],
  [
    "E string continued: the COMMIT is inside the literal",
    "SELECT E'a'\n'\\'; COMMIT; SELECT '; -- '\nSELECT 2;",
    ["SELECT E'a'\n'\\'; COMMIT; SELECT ';", "SELECT 2;"],
  ],
  ["E string continued after a -- comment on its line", "SELECT E'a' -- it's\n'\\'; x'; SELECT 2", [
    "SELECT E'a' -- it's\n'\\'; x';",
    "SELECT 2",
  ]],
  [
    "E string continued over blank lines and comment lines",
    "SELECT E'a'\n\n  -- one\n\t-- two\n  '\\'; x'; SELECT 2",
    ["SELECT E'a'\n\n  -- one\n\t-- two\n  '\\'; x';", "SELECT 2"],
  ],
  ["E mode kept over several parts", "SELECT e'a'\n'b'\n'\\';'; SELECT 2", [
    "SELECT e'a'\n'b'\n'\\';';",
    "SELECT 2",
  ]],
  ["no continuation without a newline", "SELECT E'a' '\\'; SELECT 2", [
    "SELECT E'a' '\\';",
    "SELECT 2",
  ]],
  ["no continuation across a block comment", "SELECT E'a'\n/* c */ '\\'; SELECT 2", [
    "SELECT E'a'\n/* c */ '\\';",
    "SELECT 2",
  ]],
  ["no continuation when the comment line has no newline", "SELECT E'a'\n-- '\\'; SELECT 2", [
    "SELECT E'a'\n-- '\\'; SELECT 2",
  ]],
  ["a plain string's continuation stays plain", "SELECT 'a'\n'\\'; SELECT 2", [
    "SELECT 'a'\n'\\';",
    "SELECT 2",
  ]],
  ["E'' after a newline is a new literal, not a continuation", "SELECT 'a'\nE'\\'; x'; SELECT 2", [
    "SELECT 'a'\nE'\\'; x';",
    "SELECT 2",
  ]],
  ["B'' and X'' continued", "SELECT B'1'\n'0', X'f'\n  'e'; SELECT 2", [
    "SELECT B'1'\n'0', X'f'\n  'e';",
    "SELECT 2",
  ]],
  ["B'' has no doubled quote", "SELECT B'1''0;'; SELECT 2", ["SELECT B'1''0;';", "SELECT 2"]],
  ["N'' continued", "SELECT N'a'\n'b;c'; SELECT 2", ["SELECT N'a'\n'b;c';", "SELECT 2"]],
  ["U&'' continued, then UESCAPE", "SELECT U&'!0061'\n'\\;' UESCAPE '!'; SELECT 2", [
    "SELECT U&'!0061'\n'\\;' UESCAPE '!';",
    "SELECT 2",
  ]],
  ["quoted identifiers are never continued", 'SELECT "a"\n"b;"; SELECT 2', [
    'SELECT "a"\n"b;";',
    "SELECT 2",
  ]],
];

// BEGIN ATOMIC: only BEGIN followed by ATOMIC opens a body; BEGIN, ATOMIC and
// (after AS or a dot, or as a bare label) END are legal column names.
const ATOMIC_CASES: Array<[string, string, string[]]> = [
  [
    "SET search_path = begin as a function option",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = begin RETURN 1;\nCOMMIT;",
    [
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = begin RETURN 1;",
      "COMMIT;",
    ],
  ],
  [
    'ORDER BY begin and "end" - begin inside a body',
    'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT "end" - begin FROM t ORDER BY begin; END;\nCREATE INDEX CONCURRENTLY i ON t (a);',
    [
      'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT "end" - begin FROM t ORDER BY begin; END;',
      "CREATE INDEX CONCURRENTLY i ON t (a);",
    ],
  ],
  [
    "AS end, t.end and a bare end label inside a body",
    "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS end; SELECT t.end FROM t; SELECT 1 end; END; SELECT 3",
    [
      "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 AS end; SELECT t.end FROM t; SELECT 1 end; END;",
      "SELECT 3",
    ],
  ],
  [
    "function named begin.atomic",
    "CREATE FUNCTION begin.atomic() RETURNS begin LANGUAGE sql RETURN NULL; COMMIT;",
    ["CREATE FUNCTION begin.atomic() RETURNS begin LANGUAGE sql RETURN NULL;", "COMMIT;"],
  ],
  [
    "comments between BEGIN and ATOMIC, and before the final END",
    "CREATE PROCEDURE p() BEGIN /* x; */ -- y;\n ATOMIC INSERT INTO t VALUES (1); -- done;\nEND; SELECT 1",
    [
      "CREATE PROCEDURE p() BEGIN /* x; */ -- y;\n ATOMIC INSERT INTO t VALUES (1); -- done;\nEND;",
      "SELECT 1",
    ],
  ],
  [
    "empty body",
    "create or replace function f() returns int language sql begin atomic end; select 1",
    ["create or replace function f() returns int language sql begin atomic end;", "select 1"],
  ],
  [
    "CASE ... END at the start of a body statement's expression",
    "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT (CASE WHEN false THEN 2 END); END; SELECT 2",
    [
      "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT (CASE WHEN false THEN 2 END); END;",
      "SELECT 2",
    ],
  ],
  [
    "BEGIN ATOMIC outside CREATE FUNCTION / PROCEDURE opens nothing",
    "SELECT begin atomic FROM t; SELECT 2",
    ["SELECT begin atomic FROM t;", "SELECT 2"],
  ],
];

for (const [name, input, expected] of [...CONTINUATION_CASES, ...ATOMIC_CASES]) {
  Deno.test(`splitStatements() splits like the server: ${name}`, () => {
    assert.deepEqual(stmts(input), expected);
    const chunks = splitStatements(input);
    assert.equal(chunks.map((c) => input.slice(c.start, c.end)).join(""), input);
  });
}

Deno.test("splitStatements() sees the COMMIT that a continued E string leaves outside", () => {
  assert.deepEqual(kinds("SELECT E'x'\n'\\''; COMMIT; SELECT 1; -- '"), [
    "sql",
    "transaction-control",
    "sql",
  ]);
  assert.deepEqual(kinds("SELECT E'a'\n'\\'; COMMIT; SELECT '; -- '\nSELECT 2;"), ["sql", "sql"]);
});

Deno.test("splitStatements() classifies what follows a body with begin as a column", () => {
  const input = "CREATE OR REPLACE FUNCTION f() RETURNS SETOF int LANGUAGE sql\n" +
    "BEGIN ATOMIC SELECT begin FROM t ORDER BY begin; END;\nCREATE INDEX CONCURRENTLY i ON t (a);";
  assert.deepEqual(kinds(input), ["sql", "no-transaction"]);
});

Deno.test("splitStatements() normalises a continued string as its parts joined by one space", () => {
  const norm = (input: string) => splitStatements(input)[0].normalized;
  assert.equal(norm("SELECT 'a'\n'b';"), "SELECT 'a' 'b';");
  assert.equal(norm("SELECT E'a' -- note\n\n  'b';"), "SELECT E'a' 'b';");
  assert.equal(norm("SELECT E'x'\n'\\'';"), "SELECT E'x' '\\'';");
  assert.notEqual(norm("SELECT 'a'\n'b';"), norm("SELECT 'a'\n'c';"));
});

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
  ["REINDEX SCHEMA", "REINDEX SCHEMA s; REINDEX (VERBOSE) SYSTEM;", [
    "no-transaction",
    "no-transaction",
  ]],
  ["REINDEX (CONCURRENTLY) as an option", "REINDEX (CONCURRENTLY) TABLE t;", ["no-transaction"]],
  ["REINDEX (CONCURRENTLY false)", "REINDEX (VERBOSE, CONCURRENTLY false) TABLE t;", ["sql"]],
  ["REINDEX of a table named system", "REINDEX TABLE system; REINDEX INDEX database;", [
    "sql",
    "sql",
  ]],
  ["REINDEX with an option naming a tablespace", "REINDEX (TABLESPACE database) TABLE t;", ["sql"]],
  ["CLUSTER of every table", "CLUSTER; CLUSTER VERBOSE; CLUSTER (VERBOSE);", [
    "no-transaction",
    "no-transaction",
    "no-transaction",
  ]],
  ["CLUSTER of one table", 'CLUSTER t; CLUSTER "t" USING i; CLUSTER VERBOSE t;', [
    "sql",
    "sql",
    "sql",
  ]],
  ["DISCARD", "DISCARD ALL; DISCARD PLANS;", ["no-transaction", "sql"]],
  ["ANALYZE runs in a transaction", "ANALYZE; ANALYZE t;", ["sql", "sql"]],
  [
    "ALTER SUBSCRIPTION that refreshes",
    "ALTER SUBSCRIPTION s REFRESH PUBLICATION; ALTER SUBSCRIPTION s SET PUBLICATION p;",
    ["no-transaction", "no-transaction"],
  ],
  [
    "ALTER SUBSCRIPTION that does not refresh",
    "ALTER SUBSCRIPTION s ADD PUBLICATION p WITH (refresh = false); ALTER SUBSCRIPTION s ENABLE;",
    ["sql", "sql"],
  ],
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

const STRAY_BOM: Array<[string, string, number, number]> = [
  ["between statements", "SELECT 1;\n\n\uFEFFCREATE TABLE t ();", 3, 1],
  ["inside a word", "SELECT 1;\nSELECT ab\uFEFFc FROM t;", 2, 10],
  ["after a number", "SELECT 12\uFEFF;", 1, 10],
  ["in a dollar tag", "SELECT $\uFEFF$ x $\uFEFF$;", 1, 9],
  ["after a non-BMP character, counted in code points", "SELECT '😀',\uFEFF 1;", 1, 12],
];

for (const [where, input, line, column] of STRAY_BOM) {
  Deno.test(`splitStatements() rejects a U+FEFF ${where}`, () => {
    assert.throws(() => splitStatements(input, { file: "0002_x.up.sql" }), (err: unknown) => {
      assert.ok(err instanceof StrataError);
      assert.equal(err.code, "INVALID_TEXT");
      assert.equal(
        err.message,
        `Cannot read "0002_x.up.sql" line ${line}, column ${column}: ` +
          "invisible U+FEFF (byte order mark) in the middle of the file",
      );
      assert.deepEqual([err.file, err.line, err.column], ["0002_x.up.sql", line, column]);
      assert.match(err.hint ?? "", /^Delete the invisible character/);
      return true;
    });
  });
}

Deno.test("splitStatements() allows U+FEFF inside literals, identifiers and comments", () => {
  const input = [
    "SELECT '\uFEFF', E'\\\uFEFF', U&'\uFEFF', \"a\uFEFF\", $$\uFEFF$$, $t$\uFEFF$t$;",
    "-- \uFEFF",
    "/* \uFEFF */ SELECT 2;",
  ].join("\n");
  assert.equal(stmts(input).length, 2);
  assert.throws(() => splitStatements("\uFEFF"), /line 1, column 1: invisible U\+FEFF/);
});

const LINE_COMMENTS: Array<[string, string, number[]]> = [
  ["no comments", "SELECT 1;", []],
  ["header, trailing and last line without newline", "-- a\nSELECT 1; -- b\n-- c", [0, 15, 20]],
  ["--- counts once", "--- x -- y\nSELECT 1;", [0]],
  [
    "not inside strings, identifiers, dollar bodies or block comments",
    "SELECT '--', E'\\'--', \"--\", $$ -- $$, $x$\n-- $x$ /* -- /* -- */ */;",
    [],
  ],
  ["between the parts of a continued string", "SELECT 'a' -- one\n-- two\n'b'; -- three", [
    11,
    18,
    30,
  ]],
  [
    "inside a BEGIN ATOMIC body",
    "CREATE FUNCTION f() RETURNS int BEGIN ATOMIC -- x\nSELECT 1; END;",
    [
      45,
    ],
  ],
  ["after a string, not inside it", "SELECT 'it''s' --'\n", [15]],
  ["not in a psql meta-command line", "\\set x --y\nSELECT 1; --z", [21]],
  ["operators around a comment", "SELECT 1*--2\n3;", [9]],
];

for (const [name, input, expected] of LINE_COMMENTS) {
  Deno.test(`findLineComments() finds real -- comments: ${name}`, () => {
    assert.deepEqual(findLineComments(input), expected);
    for (const at of expected) assert.equal(input.slice(at, at + 2), "--");
  });
}

Deno.test("findLineComments() throws what splitStatements() throws", () => {
  assert.throws(
    () => findLineComments("-- a\nSELECT 'x", { file: "0001_x.up.sql" }),
    (err: unknown) => err instanceof StrataError && err.code === "SQL_UNTERMINATED",
  );
});

// Golden files: tests/fixtures/sql_lexer/<case>/input.sql and the statements
// expected from it. STRATA_UPDATE_GOLDEN=1 rewrites expected.json (review the diff).
const GOLDEN = new URL("./fixtures/sql_lexer/", import.meta.url);

for (const entry of [...Deno.readDirSync(GOLDEN)].filter((e) => e.isDirectory)) {
  Deno.test(`splitStatements() matches the golden file: ${entry.name}`, () => {
    const dir = new URL(`${entry.name}/`, GOLDEN);
    const input = Deno.readTextFileSync(new URL("input.sql", dir));
    const actual = splitStatements(input, { file: "input.sql" }).filter((s) => !s.isEmpty).map((
      s,
    ) => ({
      line: s.line,
      column: s.column,
      kind: s.kind,
      text: input.slice(s.sqlStart, s.end),
      normalized: s.normalized,
    }));
    const expected = new URL("expected.json", dir);
    if (Deno.env.get("STRATA_UPDATE_GOLDEN") === "1") {
      Deno.writeTextFileSync(expected, JSON.stringify(actual, null, 2) + "\n");
    }
    assert.deepEqual(actual, JSON.parse(Deno.readTextFileSync(expected)));
  });
}
