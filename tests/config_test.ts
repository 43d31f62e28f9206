import assert from "node:assert/strict";
import {
  chooseDatabaseSource,
  connectionFromEnv,
  parseDatabaseUrl,
  parseDurationOption,
  parseTableName,
} from "../lib/core/config.ts";
import { StrataError } from "../lib/core/errors.ts";
import { caretSnippet, locatePosition } from "../lib/core/location.ts";
import { quoteIdent, quoteLiteral, quoteTable, redactUrl } from "../lib/core/quote.ts";

Deno.test("chooseDatabaseSource() follows flag, file flag, env, file env, PG* order", () => {
  const env = { DATABASE_URL: "postgres://e/x", DATABASE_URL_FILE: "/f", PGHOST: "h" };
  assert.equal(chooseDatabaseSource({ databaseUrl: "postgres://f/x" }, env).kind, "url");
  assert.deepEqual(chooseDatabaseSource({ databaseUrlFile: "/s" }, env), {
    kind: "file",
    path: "/s",
    origin: "--database-url-file",
  });
  assert.deepEqual(chooseDatabaseSource({}, env), {
    kind: "url",
    url: "postgres://e/x",
    origin: "DATABASE_URL",
  });
  assert.equal(chooseDatabaseSource({}, { DATABASE_URL_FILE: "/f" }).kind, "file");
  assert.equal(chooseDatabaseSource({}, { PGDATABASE: "d" }).kind, "env");
  assert.equal(chooseDatabaseSource({}, { HOME: "/root" }).kind, "none");
});

Deno.test("parseDatabaseUrl() reads parts, decodes the password and redacts it for display", () => {
  const c = parseDatabaseUrl(
    "postgresql://ada:p%40ss@db.example:6543/app?sslmode=require",
    "DATABASE_URL",
  );
  assert.equal(c.host, "db.example");
  assert.equal(c.port, 6543);
  assert.equal(c.user, "ada");
  assert.equal(c.password, "p@ss");
  assert.equal(c.database, "app");
  assert.equal(c.sslmode, "require");
  assert.ok(!c.display.includes("p%40ss") && !c.display.includes("p@ss"));
  const s = parseDatabaseUrl("postgres:///app?host=/var/run/postgresql", "x");
  assert.equal(s.socketDir, "/var/run/postgresql");
});

Deno.test("parseDatabaseUrl() refuses bad URLs naming the origin, never the password", () => {
  for (
    const url of [
      "mysql://u:hunter22@h/db",
      "postgres://u:hunter22@h/db?sslmode=sometimes",
      "postgres://u:hunter22@h:99999/db",
      "postgres://u:hunter22@h/db?foo=1",
      "not a url hunter22",
    ]
  ) {
    assert.throws(() => parseDatabaseUrl(url, "--database-url"), (e: unknown) => {
      assert.ok(e instanceof StrataError);
      assert.equal(e.code, "BAD_DATABASE_URL");
      assert.match(e.message, /--database-url|port/);
      assert.ok(!(e.message + e.hint).includes("hunter22"), e.message);
      return true;
    });
  }
});

Deno.test("connectionFromEnv() uses libpq's variables", () => {
  const c = connectionFromEnv({
    PGHOST: "h",
    PGPORT: "5433",
    PGUSER: "u",
    PGPASSWORD: "pw",
    PGDATABASE: "d",
    PGSSLMODE: "disable",
  });
  assert.deepEqual([c.host, c.port, c.user, c.password, c.database, c.sslmode], [
    "h",
    5433,
    "u",
    "pw",
    "d",
    "disable",
  ]);
});

Deno.test("parseTableName() splits schema and name and refuses bad names", () => {
  assert.deepEqual(parseTableName("strata_migrations", "--table"), {
    schema: "public",
    name: "strata_migrations",
  });
  assert.deepEqual(parseTableName('ops.my"t;x', "--table"), { schema: "ops", name: 'my"t;x' });
  for (const bad of ["a.b.c", ".x", "x.", "", "x".repeat(60)]) {
    assert.throws(
      () => parseTableName(bad, "--table"),
      (e: unknown) => e instanceof StrataError && e.code === "BAD_TABLE_NAME",
    );
  }
});

Deno.test("parseDurationOption() names the option on a bad value", () => {
  assert.equal(parseDurationOption("30s", "--lock-wait"), 30000);
  assert.throws(() => parseDurationOption("forever", "--lock-wait"), /--lock-wait "forever"/);
});

Deno.test("quoteIdent(), quoteLiteral() and quoteTable() double their quotes", () => {
  assert.equal(quoteIdent('a"b'), '"a""b"');
  assert.equal(quoteLiteral("it's"), "'it''s'");
  assert.equal(quoteTable({ schema: "s", name: 't"; DROP' }, "_log"), '"s"."t""; DROP_log"');
  assert.throws(() => quoteLiteral("a\0b"));
});

Deno.test("redactUrl() masks the password", () => {
  assert.equal(redactUrl("postgres://u:secret@h:5432/d"), "postgres://u:***@h:5432/d");
  assert.equal(redactUrl("postgres://u@h/d"), "postgres://u@h/d");
  assert.equal(redactUrl("garbage //u:secret@h"), "garbage //u:***@h");
});

Deno.test("redactUrl() masks passwords of any length and encoding, in user info and parameters", () => {
  const cases: Array<[string, string]> = [
    ["postgres://u@127.0.0.1:55499/db?password=abc%21defgh", "abc%21defgh"],
    ["postgres://u@h/db?password=my+secret+pw", "my+secret+pw"],
    ["postgres://u@h/db?sslmode=require&password=xyz", "xyz"],
    ["postgres://u@h/db?PASSWORD=xyz&sslmode=disable", "xyz"],
    ["postgres://u:%70%61%73%73%77%6F%72%64%31%32%33%34%35%36%37%38%39%30@h/db", "%70%61%73%73"],
    ["postgres://u:p@ss:w@rd@h/db", "p@ss"],
    ["postgres://u:a@h/db", "u:a@"],
    ["host=h password=hunter2 dbname=d", "hunter2"],
  ];
  for (const [url, secret] of cases) {
    const shown = redactUrl(url);
    assert.ok(!shown.includes(secret), `${url} -> ${shown}`);
    assert.ok(shown.includes("***"), shown);
  }
  assert.equal(
    redactUrl("postgres://u@h/db?sslmode=require&password=xyz&connect_timeout=3"),
    "postgres://u@h/db?sslmode=require&password=***&connect_timeout=3",
  );
});

Deno.test("locatePosition() maps a character position, after a prefix, to line and column", () => {
  const body = "SELECT 1;\n-- é😀\nSELEC 2;";
  const pos = [...body].indexOf("S", 10) + 1;
  assert.deepEqual(locatePosition(body, pos), { line: 3, column: 1, lineText: "SELEC 2;" });
  assert.deepEqual(locatePosition(body, pos + 7, 7), { line: 3, column: 1, lineText: "SELEC 2;" });
  const uni = "SELECT 'é😀', x y;";
  const loc = locatePosition(uni, [...uni].indexOf("y") + 1)!;
  assert.equal(loc.column, 16);
  assert.equal(locatePosition(body, 3, 7), undefined);
  assert.deepEqual(caretSnippet({ line: 3, column: 3, lineText: "\tab" }), [
    "3 | \tab",
    "  | \t ^",
  ]);
});
