import assert from "node:assert/strict";
import { closestKey, parseHeader } from "../lib/core/header.ts";
import { editDistance, parseDuration } from "../lib/core/words.ts";
import { StrataError } from "../lib/core/errors.ts";
import { HEADER_KEYS } from "../lib/core/header_keys.ts";

function headerError(text: string): StrataError {
  try {
    parseHeader(text, "0003_add.up.sql");
  } catch (err) {
    assert.ok(err instanceof StrataError);
    return err;
  }
  throw new Error("expected an error");
}

Deno.test("parseHeader() reads every known key", () => {
  const h = parseHeader(
    [
      "-- message: add users",
      "-- revises: 0002",
      "-- Transaction: FALSE",
      "-- lock-timeout: 5s",
      "-- statement_timeout: 2min",
      "-- created: 2026-11-22",
      "-- author: ada",
      "SELECT 1;",
    ].join("\n"),
    "x.up.sql",
  );
  assert.deepEqual(h, {
    message: "add users",
    revises: 2n,
    transaction: false,
    lockTimeout: 5000,
    statementTimeout: 120000,
    created: "2026-11-22",
    author: "ada",
  });
});

Deno.test("parseHeader() returns {} without a header and ignores ordinary comments", () => {
  assert.deepEqual(parseHeader("SELECT 1;", "x"), {});
  assert.deepEqual(
    parseHeader("-- Adds the users table.\n-- Note: see ticket 12\nSELECT 1;", "x"),
    {},
  );
});

Deno.test("parseHeader() stops at the first statement", () => {
  assert.deepEqual(parseHeader("SELECT 1;\n-- transaction: false\n", "x"), {});
});

Deno.test("parseHeader() refuses a key two edits from a known one, naming both", () => {
  for (
    const [typo, meant] of [["transactoin", "transaction"], ["lock_timout", "lock-timeout"], [
      "mesage",
      "message",
    ]]
  ) {
    const err = headerError(`-- ${typo}: false\nSELECT 1;`);
    assert.equal(err.code, "HEADER_UNKNOWN_KEY");
    assert.equal(err.line, 1);
    assert.match(err.message, new RegExp(`"0003_add.up.sql" line 1: unknown key "${typo}"`));
    assert.match(err.hint!, new RegExp(`Did you mean "${meant}"`));
  }
});

Deno.test("parseHeader() refuses bad values with file and line", () => {
  const cases: Array<[string, string]> = [
    ["-- transaction: maybe", "transaction"],
    ["-- lock-timeout: soon", "lock-timeout"],
    ["-- statement-timeout: 5 parsecs", "statement-timeout"],
    ["-- revises: abc", "revises"],
  ];
  for (const [line, key] of cases) {
    const err = headerError(`-- message: x\n${line}\nSELECT 1;`);
    assert.equal(err.code, "HEADER_BAD_VALUE");
    assert.equal(err.line, 2);
    assert.match(err.message, new RegExp(`line 2: bad value .* for "${key}"`));
  }
});

Deno.test("parseHeader() refuses a repeated key", () => {
  const err = headerError("-- transaction: true\n-- transaction: false\n");
  assert.equal(err.code, "HEADER_DUPLICATE_KEY");
  assert.equal(err.line, 2);
});

Deno.test("parseDuration() reads ms, s, min and h", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2min"), 120000);
  assert.equal(parseDuration("1h"), 3600000);
  assert.equal(parseDuration("5"), undefined);
  assert.equal(parseDuration("soon"), undefined);
});

Deno.test("editDistance() counts insertions, deletions, substitutions and swaps", () => {
  assert.equal(editDistance("transaction", "transaction"), 0);
  assert.equal(editDistance("transactoin", "transaction"), 1);
  assert.equal(editDistance("lock-timout", "lock-timeout"), 1);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(closestKey("note"), undefined);
  assert.equal(closestKey("autor"), "author");
});

Deno.test("parseHeader() reads keys after a licence block comment and blank lines", () => {
  const text = "/* Copyright 2026 Example\n * Licence: MIT\n */\n\n-- statement-timeout: 500ms\n" +
    "/* more */ -- lock-timeout: 2s\nSELECT pg_sleep(1.5);";
  assert.deepEqual(parseHeader(text, "x"), { statementTimeout: 500, lockTimeout: 2000 });
});

Deno.test("parseHeader() refuses a header key after the first statement, naming the line", () => {
  const text = "CREATE TABLE t (a int);\n-- statement-timeout: 500ms\nSELECT 1;\n";
  const comments = () => [text.indexOf("--")];
  try {
    parseHeader(text, "0003_add.up.sql", { lineComments: comments });
    assert.fail("expected an error");
  } catch (err) {
    assert.ok(err instanceof StrataError);
    assert.equal(err.code, "HEADER_MISPLACED");
    assert.equal(err.line, 2);
    assert.match(err.message, /"0003_add.up.sql" line 2: "statement-timeout" comes after/);
  }
});

Deno.test("parseHeader() leaves key-like text that is not a comment, and plain comments, alone", () => {
  const text = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n-- transaction: false\n" +
    "SELECT 1 $$;\n-- Note: ordinary comment\n-- see: ticket 12\n";
  // The only real comments are the last two lines; neither names a header key.
  const comments = () => [text.indexOf("-- Note"), text.indexOf("-- see")];
  assert.deepEqual(parseHeader(text, "x", { lineComments: comments }), {});
});

Deno.test("parseHeader() range-checks timeouts against PostgreSQL's 32-bit limit", () => {
  const err = headerError("-- lock-timeout: 9999h\nSELECT 1;");
  assert.equal(err.code, "HEADER_BAD_VALUE");
  assert.match(err.hint ?? "", /at most 596h/);
  assert.deepEqual(parseHeader("-- lock-timeout: 596h\n", "x"), { lockTimeout: 2_145_600_000 });
});

Deno.test("parseHeader() reads lint-ignore with its reason, env names and baseline", () => {
  assert.deepEqual(
    parseHeader(
      "-- lint-ignore: index-not-concurrent, no-lock-timeout -- the table has 40 rows\n" +
        "-- env: APP_ROLE, APP_SCHEMA\n-- baseline: true\n-- alembic-revision: 1a2b3c\n" +
        "-- flyway-version: 1_01.2\n",
      "x",
    ),
    {
      lintIgnore: {
        rules: ["index-not-concurrent", "no-lock-timeout"],
        reason: "the table has 40 rows",
      },
      env: ["APP_ROLE", "APP_SCHEMA"],
      baseline: true,
      alembicRevision: "1a2b3c",
      flywayVersion: "1_01.2",
    },
  );
  const bads = [
    "-- lint-ignore: rename",
    "-- env: 1BAD",
    "-- baseline: maybe",
    "-- flyway-version: 1.x",
  ];
  for (const bad of bads) {
    assert.equal(headerError(`${bad}\nSELECT 1;`).code, "HEADER_BAD_VALUE", bad);
  }
});

Deno.test("README's header table lists exactly the keys of HEADER_KEYS", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const start = readme.indexOf("| key                 | meaning");
  assert.ok(start !== -1, "README has the header table");
  const rows = readme.slice(start).split("\n\n")[0].split("\n").slice(2);
  const keys = rows.flatMap((row) =>
    [...row.split("|")[1].matchAll(/`([a-z-]+)`/g)].map((m) => m[1])
  );
  assert.deepEqual(keys.sort(), HEADER_KEYS.map((k) => k.key).sort());
});
