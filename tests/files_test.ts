import assert from "node:assert/strict";
import { type FileEntry, loadMigrations, parseFileName } from "../lib/core/files.ts";
import { decodeText, firstInvalidUtf8 } from "../lib/core/text.ts";
import { StrataError } from "../lib/core/errors.ts";

const enc = new TextEncoder();
function entry(name: string, text: string | Uint8Array): FileEntry {
  return { name, bytes: typeof text === "string" ? enc.encode(text) : text };
}

async function checksumOfText(text: string | Uint8Array): Promise<string> {
  const { migrations, problems } = await loadMigrations([entry("1_x.up.sql", text)]);
  assert.deepEqual(problems, []);
  return migrations[0].checksum;
}

Deno.test("parseFileName() reads version, name and direction; null for other names", () => {
  assert.deepEqual(parseFileName("0007_add_users.up.sql"), {
    version: 7n,
    versionText: "0007",
    name: "add_users",
    direction: "up",
  });
  assert.equal(
    parseFileName("12345678901234567890123_x.DOWN.SQL")?.version,
    12345678901234567890123n,
  );
  assert.equal(parseFileName("0003_add.sql"), null);
  assert.equal(parseFileName("add.up.sql"), null);
  assert.equal(parseFileName("_x.up.sql"), null);
});

Deno.test("decodeText() strips a BOM and reads CRLF as LF", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode("a\r\nb\rc")]);
  assert.equal(decodeText(bytes, "f"), "a\nb\nc");
});

Deno.test("decodeText() refuses invalid UTF-8 and NUL with the byte offset", () => {
  const bad = new Uint8Array([...enc.encode("SELECT '"), 0xe9, ...enc.encode("';")]);
  assert.throws(
    () => decodeText(bad, "0001_x.up.sql"),
    (e: unknown) =>
      e instanceof StrataError && e.code === "INVALID_TEXT" &&
      /"0001_x.up.sql": invalid UTF-8 at byte offset 8/.test(e.message),
  );
  const nul = new Uint8Array([...enc.encode("SELECT 1;"), 0]);
  assert.throws(
    () => decodeText(nul, "f.sql"),
    (e: unknown) => e instanceof StrataError && /NUL byte at byte offset 9/.test(e.message),
  );
  assert.equal(firstInvalidUtf8(enc.encode("héllo 😀")), -1);
  assert.equal(firstInvalidUtf8(new Uint8Array([0x41, 0xed, 0xa0, 0x80])), 1);
});

Deno.test("loadMigrations() orders versions as big integers, not text", async () => {
  const { migrations, problems } = await loadMigrations([
    entry("10_ten.up.sql", "SELECT 10;"),
    entry("2_two.up.sql", "SELECT 2;"),
    entry("18446744073709551617_huge.up.sql", "SELECT 3;"),
    entry("18446744073709551616_big.up.sql", "SELECT 3;"),
  ]);
  assert.deepEqual(problems, []);
  assert.deepEqual(migrations.map((m) => m.versionText), [
    "2",
    "10",
    "18446744073709551616",
    "18446744073709551617",
  ]);
});

Deno.test("loadMigrations() pairs by version, warns on differing names and missing downs", async () => {
  const r = await loadMigrations([
    entry("30_add_x.up.sql", "SELECT 1;"),
    entry("30_drop_x.down.sql", "SELECT 2;"),
    entry("31_y.up.sql", "SELECT 1;"),
    entry("README.md", "not sql"),
    entry(".hidden.sql", "garbage"),
  ]);
  assert.deepEqual(r.problems, []);
  assert.equal(r.migrations[0].down?.fileName, "30_drop_x.down.sql");
  assert.equal(r.migrations[1].down, null);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0], /names differ/);
  assert.match(r.warnings[1], /irreversible/);
});

Deno.test("loadMigrations() lists every problem: bad names, duplicates, orphans, revises", async () => {
  const r = await loadMigrations([
    entry("0003_add.sql", "SELECT 1;"),
    entry("1_a.up.sql", "SELECT 1;"),
    entry("0001_b.up.sql", "SELECT 1;"),
    entry("5_orphan.down.sql", "SELECT 1;"),
    entry("6_c.up.sql", "-- revises: 4\nSELECT 1;"),
    entry("7_d.up.sql", "-- transactoin: false\nSELECT 1;"),
  ]);
  const codes = r.problems.map((p) => p.code).sort();
  assert.deepEqual(codes, [
    "BAD_FILE_NAME",
    "BAD_FILE_NAME",
    "DUPLICATE_VERSION",
    "HEADER_UNKNOWN_KEY",
    "REVISES_MISMATCH",
  ]);
  const dup = r.problems.find((p) => p.code === "DUPLICATE_VERSION")!;
  assert.match(dup.message, /"0001_b.up.sql" and "1_a.up.sql"/);
});

Deno.test("loadMigrations() message defaults to the name with spaces", async () => {
  const { migrations } = await loadMigrations([
    entry("1_add_users.up.sql", ""),
    entry("2_x.up.sql", "-- message: Hello\n"),
  ]);
  assert.equal(migrations[0].message, "add users");
  assert.equal(migrations[1].message, "Hello");
});

Deno.test("checksum ignores CRLF, BOM, re-indenting and comments", async () => {
  const base = await checksumOfText("CREATE TABLE t (\n  a int,\n  b text DEFAULT 'x  y'\n);\n");
  assert.match(base, /^t2:sha256:[0-9a-f]{64}$/);
  assert.equal(
    await checksumOfText("CREATE TABLE t (\r\n  a int,\r\n  b text DEFAULT 'x  y'\r\n);\r\n"),
    base,
  );
  assert.equal(
    await checksumOfText(
      new Uint8Array([
        0xef,
        0xbb,
        0xbf,
        ...enc.encode("CREATE TABLE t (\n  a int,\n  b text DEFAULT 'x  y'\n);\n"),
      ]),
    ),
    base,
  );
  assert.equal(
    await checksumOfText("CREATE TABLE t (\n\t\ta int,\n\t\tb text DEFAULT 'x  y'\n);"),
    base,
  );
  assert.equal(
    await checksumOfText(
      "-- Copyright 2026 ACME\n/* licence */\nCREATE TABLE t ( -- cols\n  a int,\n  b text DEFAULT 'x  y'\n);\n",
    ),
    base,
  );
  assert.equal(
    await checksumOfText(
      "-- author: bob\nCREATE TABLE t (\n  a int,\n  b text DEFAULT 'x  y'\n);\n",
    ),
    base,
  );
});

Deno.test("checksum changes with one character of SQL, of a literal, or an execution header", async () => {
  const base = await checksumOfText("CREATE TABLE t (a int, b text DEFAULT 'x  y');");
  assert.notEqual(await checksumOfText("CREATE TABLE t (a int, c text DEFAULT 'x  y');"), base);
  assert.notEqual(await checksumOfText("CREATE TABLE t (a int, b text DEFAULT 'x y');"), base);
  assert.notEqual(await checksumOfText("CREATE TABLE t (a int, b text DEFAULT 'x  Y');"), base);
  assert.notEqual(
    await checksumOfText("-- lock-timeout: 5s\nCREATE TABLE t (a int, b text DEFAULT 'x  y');"),
    base,
  );
  assert.notEqual(
    await checksumOfText("-- transaction: true\nCREATE TABLE t (a int, b text DEFAULT 'x  y');"),
    base,
  );
});
