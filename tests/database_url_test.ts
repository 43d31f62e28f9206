import assert from "node:assert/strict";
import {
  chooseDatabaseSource,
  connectionFromEnv,
  parseDatabaseUrl,
} from "../lib/core/database_url.ts";
import { StrataError } from "../lib/core/errors.ts";

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
