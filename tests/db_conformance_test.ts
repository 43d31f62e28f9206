/**
 * The one conformance suite every `Db` implementation must pass
 * (golang-migrate's driver suite): ONE list of cases, run against postgres.js,
 * the wire driver and PGlite, each test named "<driver>: <criterion>".
 *
 * Server drivers get a fresh `strata_test_*` database per case. PGlite costs
 * about a second and much memory per instance, so one instance serves the
 * whole file and each case gets a schema of its own (first on its
 * search_path), reset afterwards; only a case that must really close a `Db`
 * opens a dedicated instance. A case PGlite cannot pass by its nature is
 * registered for it as ignored, with the reason in the test's name.
 */

import assert from "node:assert/strict";
import {
  type ConnectionOptions,
  type EmbeddedOptions,
  parseDatabaseUrl,
} from "../lib/core/database_url.ts";
import type { Db } from "../lib/core/types.ts";
import { createPgliteDb } from "../lib/db/pglite.ts";
import { createPostgresDb } from "../lib/db/postgres.ts";
import { createWireDb } from "../lib/db/wire.ts";
import {
  freePort,
  serverFailure,
  strataFailure,
  waitForGone,
  waitForSleep,
} from "./_db_helpers.ts";
import { PGLITE_CACHE, serverTest, type TestDb } from "./_helpers.ts";

/** How a case opens its `Db`. */
interface OpenOptions {
  readonly onNotice?: (message: string) => void;
  /** A `Db` of its own whose `close()` really ends it (for PGlite: a new instance). */
  readonly dedicated?: boolean;
  /** Server drivers: settings that differ from the case's database (another port, database). */
  readonly conn?: Partial<ConnectionOptions>;
}

/** What a case gets from the driver under test. */
interface Harness {
  /** Open a `Db` for this case; the harness closes it afterwards (close is idempotent). */
  open(options?: OpenOptions): Promise<Db>;
  /** Another session on the case's database (server drivers only). */
  readonly admin: TestDb["sql"] | null;
}

/** One criterion every driver must meet. */
interface Case {
  readonly name: string;
  /** Why PGlite cannot meet it by its nature; the case is then registered as ignored for PGlite. */
  readonly notOnPglite?: string;
  readonly fn: (h: Harness) => Promise<void>;
}

const MEMORY: EmbeddedOptions = { kind: "pglite", dataDir: null, display: "pglite:memory" };
const NO_SESSION = "an embedded database has no server session another connection can end";

async function backendPid(db: Db): Promise<number> {
  const [{ pid }] = await db.query<{ pid: number }>("SELECT pg_catalog.pg_backend_pid() AS pid");
  return pid;
}

/** Sessions named strata on the case's database (a silent reconnect would show here). */
async function strataSessions(admin: TestDb["sql"]): Promise<number> {
  const [{ n }] = await admin`SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND application_name = 'strata'`;
  return n;
}

const CASES: readonly Case[] = [
  {
    name: "query() sends typed parameters and decodes text, bool, int4, int8, numeric, " +
      "timestamptz and null",
    async fn(h) {
      const db = await h.open();
      const rows = await db.query(
        `SELECT $1::text AS text, $2::bool AS yes, $3::bool AS no, $4::int4 AS int4,
          $5::int8 AS int8, $6::numeric AS numeric, $7::timestamptz AS tstz, $8::text AS nothing,
          pg_catalog.count(*) AS count, -7 AS literal`,
        [
          "héllo ✓ 😀",
          true,
          false,
          42,
          "9007199254740993",
          "12345678901234567890.125",
          new Date("2024-01-02T03:04:05.678Z"),
          null,
        ],
      );
      assert.deepEqual(rows, [{
        text: "héllo ✓ 😀",
        yes: true,
        no: false,
        int4: 42,
        int8: "9007199254740993",
        numeric: "12345678901234567890.125",
        tstz: new Date("2024-01-02T03:04:05.678Z"),
        nothing: null,
        count: "1",
        literal: -7,
      }]);
      assert.deepEqual(await db.query("SELECT 1 AS n WHERE false"), [], "no rows");
      assert.deepEqual(await db.query("CREATE TABLE t (x int)"), [], "a statement without rows");
      assert.deepEqual(await db.query("INSERT INTO t VALUES ($1), ($2)", [1, "2"]), []);
      assert.deepEqual(await db.query("SELECT x FROM t ORDER BY x"), [{ x: 1 }, { x: 2 }]);
    },
  },
  {
    name: "runScript() runs a multi-statement text as one message (one implicit transaction)",
    async fn(h) {
      const db = await h.open();
      await db.runScript(`CREATE TABLE t (x int);
        INSERT INTO t VALUES (1), (2);
        CREATE FUNCTION add_ten() RETURNS void LANGUAGE sql AS $$ INSERT INTO t SELECT x + 10 FROM t; $$;
        SELECT add_ten();
        CREATE TABLE xids (xid text);
        INSERT INTO xids SELECT pg_catalog.txid_current()::text;
        INSERT INTO xids SELECT pg_catalog.txid_current()::text;
        -- a trailing comment`);
      const rows = await db.query("SELECT x FROM t ORDER BY x");
      assert.deepEqual(rows, [{ x: 1 }, { x: 2 }, { x: 11 }, { x: 12 }]);
      const xids = await db.query("SELECT count(DISTINCT xid)::int AS n FROM xids");
      assert.deepEqual(xids, [{ n: 1 }], "statements sent apart would run in two transactions");
      await db.runScript("");
      await db.runScript("-- only a comment\n");
      assert.equal(await db.transactionStatus(), "idle");
    },
  },
  {
    name: "a syntax error is DbServerError 42601 with its 1-based character position in the " +
      "whole text",
    async fn(h) {
      const db = await h.open();
      const plain = await serverFailure(db.runScript("SELECT 1; SELEC 2"), "42601");
      assert.equal(plain.message, 'syntax error at or near "SELEC"');
      assert.equal(plain.position, 11);
      assert.equal(plain.severity, "ERROR");
      // 'é✓😀' is 3 characters, 4 UTF-16 units and 9 bytes: the server counts characters.
      const wide = await serverFailure(db.runScript("SELECT 'é✓😀'; SELEC 2"), "42601");
      assert.equal(wide.position, 15);
      const column = await serverFailure(db.query("SELECT 'é', nosuch"), "42703");
      assert.equal(column.message, 'column "nosuch" does not exist');
      assert.equal(column.position, 13);
    },
  },
  {
    name: "an error carries detail, hint and where from RAISE EXCEPTION … USING DETAIL, HINT",
    async fn(h) {
      const db = await h.open();
      await db.runScript(`CREATE FUNCTION boom() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'boom %', 1 USING DETAIL = 'the detail', HINT = 'the hint'; END $$`);
      const calls = [
        () => db.query("SELECT boom()"),
        () => db.runScript("SELECT 1; SELECT boom()"),
      ];
      for (const call of calls) {
        const err = await serverFailure(call(), "P0001");
        assert.equal(err.message, "boom 1");
        assert.equal(err.detail, "the detail");
        assert.equal(err.hint, "the hint");
        assert.equal(err.where, "PL/pgSQL function boom() line 2 at RAISE");
        assert.equal(err.severity, "ERROR");
        assert.equal(err.position, undefined);
      }
      assert.deepEqual(await db.query("SELECT 1 AS ok"), [{ ok: 1 }], "the session goes on");
    },
  },
  {
    name: "runScript() stops a multi-statement text at its first error and runs none of the rest",
    async fn(h) {
      const db = await h.open();
      const err = await serverFailure(
        db.runScript("CREATE TABLE a (x int); SELECT 1/0; CREATE TABLE b (x int)"),
        "22012",
      );
      assert.equal(err.message, "division by zero");
      assert.equal(err.position, undefined);
      const [row] = await db.query("SELECT to_regclass('a') AS a, to_regclass('b') AS b");
      assert.deepEqual(row, { a: null, b: null }, "b never ran; a rolled back with the message");
      assert.equal(await db.transactionStatus(), "idle");
      assert.deepEqual(await db.query("SELECT 2 AS n"), [{ n: 2 }], "the session goes on");
    },
  },
  {
    name: 'notices and warnings reach onNotice as "SEVERITY: text"',
    async fn(h) {
      const notices: string[] = [];
      const db = await h.open({ onNotice: (m) => notices.push(m) });
      await db.runScript("DO $$BEGIN RAISE NOTICE 'hello %', 1; RAISE WARNING 'careful'; END$$");
      await db.query("DROP TABLE IF EXISTS nothing_here");
      assert.deepEqual(notices, [
        "NOTICE: hello 1",
        "WARNING: careful",
        'NOTICE: table "nothing_here" does not exist, skipping',
      ]);
    },
  },
  {
    name: "transactionStatus() is idle, open after BEGIN, failed after an error in the block, " +
      "idle after ROLLBACK",
    async fn(h) {
      const db = await h.open();
      assert.equal(await db.transactionStatus(), "idle");
      await db.runScript("BEGIN");
      assert.equal(await db.transactionStatus(), "open");
      await serverFailure(db.query("SELECT 1/0"), "22012");
      assert.equal(await db.transactionStatus(), "failed");
      await serverFailure(db.query("SELECT 1"), "25P02");
      assert.equal(await db.transactionStatus(), "failed");
      await db.runScript("ROLLBACK");
      assert.equal(await db.transactionStatus(), "idle");
      // Straight after BEGIN, many times: a probe must not depend on the clock having ticked.
      for (let i = 0; i < 25; i++) {
        await db.runScript("BEGIN");
        assert.equal(await db.transactionStatus(), "open", `attempt ${i}`);
        await db.runScript("COMMIT");
        assert.equal(await db.transactionStatus(), "idle", `attempt ${i}`);
      }
    },
  },
  {
    name: "cancel() with nothing running is a no-op",
    async fn(h) {
      const db = await h.open();
      await db.cancel();
      assert.deepEqual(await db.query("SELECT 1 AS n"), [{ n: 1 }]);
      await db.cancel();
      assert.deepEqual(await db.query("SELECT 2 AS n"), [{ n: 2 }]);
    },
  },
  {
    name: "cancel() ends a running pg_sleep(30) with 57014 within seconds",
    notOnPglite: "PGlite runs statements inside this process and cannot cancel them",
    async fn(h) {
      const db = await h.open();
      const pid = await backendPid(db);
      const sleeping = serverFailure(db.query("SELECT pg_sleep(30)"), "57014");
      await waitForSleep(h.admin!, pid);
      await db.cancel();
      // A finished 30 s sleep would not reject: the error itself shows the cancel worked.
      const err = await sleeping;
      assert.equal(err.message, "canceling statement due to user request");
      assert.deepEqual(await db.query("SELECT 3 AS n"), [{ n: 3 }], "the session goes on");
      assert.equal(await backendPid(db), pid, "the same session");
    },
  },
  {
    name: "a session terminated between calls: every later call throws CONNECTION_FAILED at " +
      "once, with no reconnect",
    notOnPglite: NO_SESSION,
    async fn(h) {
      const db = await h.open();
      const pid = await backendPid(db);
      await h.admin!`SELECT pg_terminate_backend(${pid})`;
      await waitForGone(h.admin!, pid);
      const started = performance.now();
      const first = await strataFailure(db.query("SELECT 1"), "CONNECTION_FAILED");
      assert.match(first.message, /the connection to the server was lost/);
      await strataFailure(db.runScript("SELECT 1"), "CONNECTION_FAILED");
      await strataFailure(db.transactionStatus(), "CONNECTION_FAILED");
      await strataFailure(db.query("SELECT 1"), "CONNECTION_FAILED");
      assert.ok(performance.now() - started < 20_000, "no waiting for a reconnect");
      assert.equal(await strataSessions(h.admin!), 0, "no new session was opened");
      await db.cancel();
      await db.close();
    },
  },
  {
    name: "a session terminated mid-statement: that call throws the server's FATAL 57P01, " +
      "every later call CONNECTION_FAILED",
    notOnPglite: NO_SESSION,
    async fn(h) {
      const db = await h.open();
      const pid = await backendPid(db);
      const sleeping = serverFailure(db.query("SELECT pg_sleep(30)"), "57P01");
      await waitForSleep(h.admin!, pid);
      await h.admin!`SELECT pg_terminate_backend(${pid})`;
      const err = await sleeping;
      assert.equal(err.message, "terminating connection due to administrator command");
      assert.equal(err.severity, "FATAL");
      const started = performance.now();
      await strataFailure(db.query("SELECT 1"), "CONNECTION_FAILED");
      await strataFailure(db.runScript("SELECT 1"), "CONNECTION_FAILED");
      assert.ok(performance.now() - started < 20_000, "no waiting for a reconnect");
      // The terminated backend may linger in pg_stat_activity while it exits.
      await waitForGone(h.admin!, pid);
      assert.equal(await strataSessions(h.admin!), 0, "no new session was opened");
    },
  },
  {
    name: "close() never throws, twice in a row too; later calls throw CONNECTION_FAILED",
    async fn(h) {
      const db = await h.open({ dedicated: true });
      const pid = h.admin ? await backendPid(db) : null;
      assert.deepEqual(await db.query("SELECT 1 AS n"), [{ n: 1 }]);
      await db.close();
      await db.close();
      if (h.admin && pid !== null) await waitForGone(h.admin, pid);
      await strataFailure(db.query("SELECT 1"), "CONNECTION_FAILED");
      await strataFailure(db.runScript("SELECT 1"), "CONNECTION_FAILED");
      const unused = await h.open({ dedicated: true });
      await unused.close();
      await unused.close();
    },
  },
  {
    name: "server errors are DbServerErrors from query() and runScript(), never library errors",
    async fn(h) {
      const db = await h.open();
      const missing = await serverFailure(db.query("SELECT * FROM nosuch"), "42P01");
      assert.equal(missing.message, 'relation "nosuch" does not exist');
      await serverFailure(db.runScript("SELECT * FROM nosuch"), "42P01");
      const bad = await serverFailure(db.query("SELECT $1::int AS n", ["x"]), "22P02");
      assert.equal(bad.message, 'invalid input syntax for type integer: "x"');
      await serverFailure(db.runScript("CREATE TABLE t (x int); CREATE TABLE t (x int)"), "42P07");
      // A statement's error whose SQLSTATE a refused connection also has is still the statement's.
      const gone = await serverFailure(db.runScript("DROP DATABASE strata_test_nosuch"), "3D000");
      assert.equal(gone.message, 'database "strata_test_nosuch" does not exist');
      assert.deepEqual(await db.query("SELECT 1 AS n"), [{ n: 1 }], "the session goes on");
    },
  },
  {
    name: "connecting to a missing database or a closed port throws CONNECTION_FAILED",
    notOnPglite: "an embedded database has no server to connect to",
    async fn(h) {
      const missing = await h.open({ dedicated: true, conn: { database: "strata_test_nosuch" } });
      const err = await strataFailure(missing.query("SELECT 1"), "CONNECTION_FAILED");
      assert.match(err.message, /database "strata_test_nosuch" does not exist/);
      const closed = await h.open({ dedicated: true, conn: { port: freePort() } });
      await strataFailure(closed.query("SELECT 1"), "CONNECTION_FAILED");
    },
  },
];

type ServerDriver = (conn: ConnectionOptions, options: { onNotice?: (m: string) => void }) => Db;

/** Each case on a fresh database, with the driver's `Db`s closed afterwards. */
function registerServerDriver(driver: string, create: ServerDriver): void {
  for (const c of CASES) {
    serverTest(`${driver}: ${c.name}`, async (t) => {
      const opened: Db[] = [];
      const open = (options: OpenOptions = {}) => {
        const conn = { ...parseDatabaseUrl(t.url, "test"), ...options.conn };
        const db = create(conn, { onNotice: options.onNotice });
        opened.push(db);
        return Promise.resolve(db);
      };
      try {
        await c.fn({ open, admin: t.sql });
      } finally {
        for (const db of opened) await db.close();
      }
    });
  }
}

/** The file's one PGlite instance, started by the first case that needs it. */
let sharedPglite: Promise<{ db: Db; notices: { sink: ((m: string) => void) | null } }> | null =
  null;

function startSharedPglite() {
  sharedPglite ??= (async () => {
    const notices: { sink: ((m: string) => void) | null } = { sink: null };
    const db = await createPgliteDb(MEMORY, {
      onNotice: (m) => notices.sink?.(m),
      cacheDir: PGLITE_CACHE,
    });
    return { db, notices };
  })();
  return sharedPglite;
}

/** Put the shared instance back as it was: no open block, default settings, no case schema. */
async function resetPglite(db: Db, schema: string): Promise<void> {
  if (await db.transactionStatus() !== "idle") await db.runScript("ROLLBACK");
  await db.runScript(
    `RESET ALL; SELECT pg_catalog.pg_advisory_unlock_all(); DROP SCHEMA ${schema} CASCADE`,
  );
}

/** Each case in a schema of its own on the shared instance (a dedicated instance on request). */
function registerPglite(): void {
  CASES.forEach((c, index) => {
    if (c.notOnPglite) {
      Deno.test({ name: `pglite: ${c.name} (skipped: ${c.notOnPglite})`, ignore: true, fn() {} });
      return;
    }
    Deno.test({
      name: `pglite: ${c.name}`,
      sanitizeOps: false,
      sanitizeResources: false,
      async fn() {
        const { db, notices } = await startSharedPglite();
        const schema = `conformance_${index}`;
        await db.runScript(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
        const dedicated: Db[] = [];
        const open = async (options: OpenOptions = {}): Promise<Db> => {
          if (options.dedicated) {
            const own = await createPgliteDb(MEMORY, {
              onNotice: options.onNotice,
              cacheDir: PGLITE_CACHE,
            });
            dedicated.push(own);
            return own;
          }
          notices.sink = options.onNotice ?? null;
          return { ...db, close: () => Promise.resolve() };
        };
        try {
          await c.fn({ open, admin: null });
        } finally {
          notices.sink = null;
          for (const own of dedicated) await own.close();
          await resetPglite(db, schema);
        }
      },
    });
  });
}

registerServerDriver("postgres.js", createPostgresDb);
registerServerDriver("wire", createWireDb);
registerPglite();
