/**
 * The wire-protocol driver (lib/db/wire.ts) against real servers: the test
 * server for queries, errors, notices, transaction status, cancel, lost
 * sessions and connection failures; fake TCP servers and a proxy for
 * timeouts and dropped sockets; a private throwaway cluster (password
 * methods, SSL with a certificate from a private CA) for what the shared
 * all-trust server must not be reconfigured for.
 */

import assert from "node:assert/strict";
import { type ConnectionOptions, parseDatabaseUrl } from "../lib/core/database_url.ts";
import { describeError } from "../lib/core/errors.ts";
import type { Db } from "../lib/core/types.ts";
import { createPostgresDb } from "../lib/db/postgres.ts";
import { acquireLock, prepareSession, releaseLock } from "../lib/db/session.ts";
import { createWireDb } from "../lib/db/wire.ts";
import { md5Hex } from "../lib/db/wire_md5.ts";
import { freePort, serverFailure, strataFailure, waitForSleep } from "./_db_helpers.ts";
import { serverTest, serverUrl, waitFor, withTestDb } from "./_helpers.ts";

function connFor(url: string, extra: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return { ...parseDatabaseUrl(url, "test"), ...extra };
}

async function withWire(
  conn: ConnectionOptions,
  fn: (db: Db, notices: string[]) => Promise<void>,
): Promise<void> {
  const notices: string[] = [];
  const db = createWireDb(conn, { onNotice: (m) => notices.push(m) });
  try {
    await fn(db, notices);
  } finally {
    await db.close();
  }
}

Deno.test("md5Hex() matches the RFC 1321 test suite", () => {
  const cases: Array<[string, string]> = [
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ];
  for (const [input, digest] of cases) {
    assert.equal(md5Hex(new TextEncoder().encode(input)), digest, JSON.stringify(input));
  }
});

const TYPES_SQL = `SELECT true AS bool, 1::int2 AS int2, 2::int4 AS int4, 3::oid AS oid,
  1.5::float4 AS float4, 2.25::float8 AS float8, 9007199254740993::int8 AS int8,
  12345678901234567890.125::numeric AS numeric, '2024-01-02 03:04:05.678+00'::timestamptz AS tstz,
  '2024-01-02 03:04:05'::timestamp AS ts, '2024-01-02'::date AS date,
  '{"a": [1, "x"]}'::json AS json, '[1, 2]'::jsonb AS jsonb, NULL::int AS nothing,
  'héllo ✓'::text AS text, '5d0b0f65-3f0c-4b3e-9a6f-9d7c0c3b2a11'::uuid AS uuid,
  ARRAY[1, 2] AS arr, '\\x00ff'::bytea AS bytes, 'NaN'::float8 AS nan`;

serverTest("createWireDb() query decodes each type as postgres.js does", async (t) => {
  await withWire(connFor(t.url), async (db) => {
    const [row] = await db.query(TYPES_SQL);
    assert.equal(row.bool, true);
    assert.deepEqual([row.int2, row.int4, row.oid, row.float4, row.float8], [1, 2, 3, 1.5, 2.25]);
    assert.equal(row.int8, "9007199254740993");
    assert.equal(row.numeric, "12345678901234567890.125");
    assert.deepEqual(row.tstz, new Date("2024-01-02T03:04:05.678Z"));
    assert.ok(row.ts instanceof Date && row.date instanceof Date);
    assert.deepEqual(row.json, { a: [1, "x"] });
    assert.deepEqual(row.jsonb, [1, 2]);
    assert.equal(row.nothing, null);
    assert.equal(row.text, "héllo ✓");
    assert.equal(row.uuid, "5d0b0f65-3f0c-4b3e-9a6f-9d7c0c3b2a11");
    assert.ok(Number.isNaN(row.nan));
    assert.deepEqual(row.bytes, Uint8Array.of(0, 255));
    const pg = createPostgresDb(connFor(t.url));
    try {
      const { bytes, ...theirs } = (await pg.query(TYPES_SQL))[0];
      assert.deepEqual(
        new Uint8Array(bytes as Uint8Array),
        row.bytes,
        "bytea: node's Buffer there",
      );
      assert.deepEqual(
        { ...row, bytes: undefined },
        { ...theirs, bytes: undefined },
        "as postgres.js",
      );
    } finally {
      await pg.close();
    }
  });
});

serverTest("createWireDb() query sends parameters as text that the SQL's casts type", async (t) => {
  await withWire(connFor(t.url), async (db) => {
    const when = new Date("2025-06-07T08:09:10.123Z");
    const [row] = await db.query(
      `SELECT $1::int4 + 1 AS n, $2::text AS s, $3::boolean AS b, $4::jsonb AS j,
              $5::timestamptz AS t, $6::int[] AS arr, $7::text AS nul, $8::bytea AS bin,
              $9::int8 AS big, length($10) AS long`,
      [
        41,
        `it's "quoted" \\ é`,
        true,
        { a: [1] },
        when,
        [1, null, 3],
        null,
        Uint8Array.of(0, 255),
        2n ** 62n,
        "x".repeat(1_000_000),
      ],
    );
    assert.deepEqual(row, {
      n: 42,
      s: `it's "quoted" \\ é`,
      b: true,
      j: { a: [1] },
      t: when,
      arr: "{1,NULL,3}",
      nul: null,
      bin: Uint8Array.of(0, 255),
      big: String(2n ** 62n),
      long: 1_000_000,
    });
    assert.deepEqual(await db.query("CREATE TABLE t (a int)"), []);
    await db.query("INSERT INTO t SELECT generate_series(1, 50000)");
    const rows = await db.query<{ a: number }>("SELECT a FROM t ORDER BY a");
    assert.equal(rows.length, 50000);
    assert.equal(rows[49999].a, 50000);
  });
});

serverTest("createWireDb() runScript runs several statements in one message", async (t) => {
  await withWire(connFor(t.url), async (db) => {
    await db.runScript(
      "CREATE TABLE a (x int);\nINSERT INTO a VALUES (1), (2);\nSELECT * FROM a;\n-- done\n",
    );
    assert.deepEqual(await db.query("SELECT count(*)::int AS n FROM a"), [{ n: 2 }]);
    const text = "CREATE TABLE b (x int);\nINSERT INTO nosuch VALUES (1);\nCREATE TABLE c (x int);";
    const err = await serverFailure(db.runScript(text), "42P01");
    assert.equal(err.position, text.indexOf("nosuch") + 1);
    const [row] = await db.query("SELECT to_regclass('b') AS b, to_regclass('c') AS c");
    assert.deepEqual(row, { b: null, c: null }, "one implicit transaction, rolled back");
    assert.equal(await db.transactionStatus(), "idle");
    await db.runScript("");
    await serverFailure(db.runScript("SELECT 1; COPY a FROM STDIN; SELECT 2"), "57014");
    await serverFailure(db.query("COPY a FROM STDIN"), "57014");
    await db.runScript("COPY a TO STDOUT");
    assert.deepEqual(await db.query("SELECT count(*)::int AS n FROM a"), [{ n: 2 }]);
  });
});

serverTest("createWireDb() errors carry sqlstate, position, detail, hint and where", async (t) => {
  await withWire(connFor(t.url), async (db) => {
    const missing = await serverFailure(db.query("SELECT 'é', nosuch"), "42703");
    assert.equal(missing.position, 13, "counted in characters");
    assert.equal(missing.severity, "ERROR");
    await db.runScript(`CREATE FUNCTION boom() RETURNS void LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'boom %', 1 USING DETAIL = 'the detail', HINT = 'the hint'; END $$`);
    const err = await serverFailure(db.query("SELECT boom()"), "P0001");
    assert.equal(err.message, "boom 1");
    assert.equal(err.detail, "the detail");
    assert.equal(err.hint, "the hint");
    assert.match(err.where ?? "", /PL\/pgSQL function boom\(\) line 2/);
    assert.deepEqual(await db.query("SELECT 1 AS ok"), [{ ok: 1 }], "the session goes on");
  });
});

serverTest("createWireDb() passes notices and warnings to onNotice", async (t) => {
  await withWire(connFor(t.url), async (db, notices) => {
    await db.runScript("DO $$BEGIN RAISE NOTICE 'hello %', 1; RAISE WARNING 'careful'; END$$");
    await db.query("DROP TABLE IF EXISTS nothing_here");
    assert.deepEqual(notices, [
      "NOTICE: hello 1",
      "WARNING: careful",
      'NOTICE: table "nothing_here" does not exist, skipping',
    ]);
  });
});

serverTest(
  "createWireDb() transactionStatus follows ReadyForQuery: idle, open, failed",
  async (t) => {
    await withWire(connFor(t.url), async (db) => {
      assert.equal(await db.transactionStatus(), "idle");
      await db.runScript("BEGIN");
      assert.equal(await db.transactionStatus(), "open");
      await serverFailure(db.query("SELECT 1/0"), "22012");
      assert.equal(await db.transactionStatus(), "failed");
      await serverFailure(db.query("SELECT 1"), "25P02");
      await db.runScript("ROLLBACK");
      assert.equal(await db.transactionStatus(), "idle");
    });
  },
);

serverTest("createWireDb() serves strata's session: settings, the advisory lock", async (t) => {
  const table = { schema: "public", name: "strata_migrations" };
  await withWire(connFor(t.url), async (db) => {
    assert.ok(await prepareSession(db, { writable: true }) >= 120000);
    const key = await acquireLock(db, table, { waitMs: 1000 });
    await withWire(connFor(t.url), async (other) => {
      const err = await strataFailure(acquireLock(other, table, { waitMs: 200 }), "LOCK_TIMEOUT");
      assert.match(err.details.join("\n"), /application_name "strata"/);
      await releaseLock(db, key);
      await releaseLock(other, await acquireLock(other, table, { waitMs: 1000 }));
    });
  });
});

const SOCKET_DIR = "/var/run/postgresql";

/** Why the Unix-socket test cannot run here (no server, or a server without a local socket). */
function socketSkipReason(): string | null {
  let port: string;
  try {
    port = new URL(serverUrl()).port || "5432";
  } catch {
    return null; // serverTest itself says why (or fails under STRATA_TEST_REQUIRE_SERVER=1)
  }
  try {
    Deno.statSync(`${SOCKET_DIR}/.s.PGSQL.${port}`);
    return null;
  } catch {
    return `the test server has no socket in ${SOCKET_DIR} (a remote or container server)`;
  }
}

const skipSocket = socketSkipReason();

Deno.test({
  name: skipSocket
    ? `createWireDb() Unix-domain socket test skipped: ${skipSocket}`
    : "createWireDb() connects over a Unix-domain socket",
  ignore: skipSocket !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () =>
    withTestDb(async (t) => {
      const socket = { host: SOCKET_DIR, socketDir: SOCKET_DIR };
      await withWire(connFor(t.url, socket), async (db) => {
        assert.deepEqual(await db.query("SELECT current_database() AS d"), [{ d: t.name }]);
      });
      const required = connFor(t.url, { ...socket, sslmode: "require" });
      await strataFailure(createWireDb(required).query("SELECT 1"), "SSL_UNAVAILABLE");
    }),
});

serverTest("createWireDb() honours sslmode=require against the test server", async (t) => {
  const [{ ssl }] = await t.sql`SHOW ssl`;
  const db = createWireDb(connFor(t.url, { sslmode: "require" }));
  try {
    if (ssl === "on") {
      const [row] = await db.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      assert.equal(row.ssl, true);
      return;
    }
    const err = await strataFailure(db.query("SELECT 1"), "SSL_UNAVAILABLE");
    assert.match(err.message, /sslmode=require but no secure connection could be made/);
    assert.match(err.hint ?? "", /never falls back to plaintext/);
    await withWire(connFor(t.url, { sslmode: "prefer" }), async (plain) => {
      assert.deepEqual(await plain.query("SELECT 1 AS n"), [{ n: 1 }]);
    });
  } finally {
    await db.close();
  }
});

serverTest("createWireDb() reports a missing database with a createdb hint", async (t) => {
  const conn = connFor(t.url, { database: `${t.name}_missing` });
  const err = await strataFailure(createWireDb(conn).query("SELECT 1"), "CONNECTION_FAILED");
  assert.match(err.message, /does not exist/);
  assert.match(err.hint ?? "", /createdb/);
});

Deno.test("createWireDb() reports refused, missing socket and unknown host as CONNECTION_FAILED", async () => {
  const port = freePort();
  const conn = parseDatabaseUrl(`postgres://postgres@127.0.0.1:${port}/x`, "test");
  const err = await strataFailure(createWireDb(conn).query("SELECT 1"), "CONNECTION_FAILED");
  assert.match(err.message, /connection refused/);
  const dir = await Deno.makeTempDir({ prefix: "strata_wire_" });
  try {
    const socket = connFor(conn.display, { host: dir, socketDir: dir });
    const noFile = await strataFailure(createWireDb(socket).query("SELECT 1"), "CONNECTION_FAILED");
    assert.match(noFile.message, /no socket file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const unknown = connFor(conn.display, { host: "strata-no-such-host.invalid" });
  const lookup = await strataFailure(createWireDb(unknown).query("SELECT 1"), "CONNECTION_FAILED");
  assert.match(lookup.message, /host not found/);
});

/**
 * A TCP server on a free port that answers the first 8 bytes of each
 * connection (an SSLRequest) with `reply`, or nothing, and then stays silent.
 */
async function withFakeServer(
  reply: string | null,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const c of listener) {
      accepted.push(c);
      if (reply === null) continue;
      c.read(new Uint8Array(8)).then(() => c.write(new TextEncoder().encode(reply))).catch(
        () => {},
      );
    }
  })();
  try {
    await fn((listener.addr as Deno.NetAddr).port);
  } finally {
    listener.close();
    await serving.catch(() => {});
    for (const c of accepted) {
      try {
        c.close();
      } catch {
        // The driver closed its end first.
      }
    }
  }
}

Deno.test({
  name: "createWireDb() gives up after connectTimeoutSeconds at every step of a silent server",
  sanitizeResources: false,
  fn: async () => {
    const cases: Array<[string | null, string]> = [
      [null, "prefer"], // no answer to SSLRequest
      ["S", "require"], // no TLS handshake
      ["N", "prefer"], // no answer to StartupMessage
    ];
    for (const [reply, sslmode] of cases) {
      await withFakeServer(reply, async (port) => {
        const url = `postgres://u@127.0.0.1:${port}/x?connect_timeout=1&sslmode=${sslmode}`;
        const started = performance.now();
        const db = createWireDb(parseDatabaseUrl(url, "test"));
        const err = await strataFailure(db.query("SELECT 1"), "CONNECTION_FAILED");
        assert.match(err.message, /timed out/, `${reply} ${sslmode}`);
        assert.ok(performance.now() - started < 20_000, "gave up, not hung");
      });
    }
    await withFakeServer("N", async (port) => {
      const url = `postgres://u@127.0.0.1:${port}/x?sslmode=require`;
      await strataFailure(
        createWireDb(parseDatabaseUrl(url, "test")).query("SELECT 1"),
        "SSL_UNAVAILABLE",
      );
    });
  },
});

/** A TCP proxy to `target` whose connections `cut()` drops without a word from the server. */
function startProxy(target: { hostname: string; port: number }) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const client of listener) {
      const server = await Deno.connect(target);
      conns.push(client, server);
      client.readable.pipeTo(server.writable).catch(() => {});
      server.readable.pipeTo(client.writable).catch(() => {});
    }
  })();
  const cut = () => {
    for (const c of conns.splice(0)) {
      try {
        c.close();
      } catch {
        // Closed by its stream already.
      }
    }
  };
  return {
    port: (listener.addr as Deno.NetAddr).port,
    cut,
    async close() {
      listener.close();
      await serving.catch(() => {});
      cut();
    },
  };
}

serverTest(
  "createWireDb() a dropped socket, idle or mid-statement, loses the session",
  async (t) => {
    const u = new URL(t.url);
    const proxy = startProxy({ hostname: u.hostname, port: Number(u.port || 5432) });
    const viaProxy = connFor(t.url, { host: "127.0.0.1", port: proxy.port, sslmode: "disable" });
    try {
      await withWire(viaProxy, async (db) => {
        assert.deepEqual(await db.query("SELECT 1 AS n"), [{ n: 1 }]);
        proxy.cut();
        const err = await strataFailure(db.query("SELECT 1"), "CONNECTION_FAILED");
        assert.match(err.message, /the connection to the server was lost/);
        await strataFailure(db.runScript("SELECT 1"), "CONNECTION_FAILED");
      });
      await withWire(viaProxy, async (db) => {
        const [{ pid }] = await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        const sleeping = strataFailure(db.query("SELECT pg_sleep(30)"), "CONNECTION_FAILED");
        await waitForSleep(t.sql, pid);
        const started = performance.now();
        proxy.cut();
        const err = await sleeping;
        assert.ok(performance.now() - started < 20_000, "noticed, not hung");
        assert.match(err.message, /the connection to the server was lost/);
        await strataFailure(db.transactionStatus(), "CONNECTION_FAILED");
        await db.cancel();
        await t.sql`SELECT pg_terminate_backend(${pid})`;
      });
    } finally {
      await proxy.close();
    }
  },
);

// ---- a private cluster: password methods and SSL, never on the shared server ----

/** The newest installed PostgreSQL's binaries (Debian's layout), or null. */
function findPgBin(): string | null {
  const root = "/usr/lib/postgresql";
  try {
    const majors = [...Deno.readDirSync(root)].map((e) => e.name).filter((n) => /^\d+$/.test(n));
    majors.sort((a, b) => Number(b) - Number(a));
    return majors.length ? `${root}/${majors[0]}/bin` : null;
  } catch {
    return null;
  }
}

const PG_BIN = findPgBin() ?? "/usr/lib/postgresql/<none>/bin";
const PASSWORDS = {
  wire_scram: "Scram-pw-7c1ﬁ ünï", // non-ASCII: SASLprep (NFKC turns "ﬁ" into "fi")
  wire_md5: "Md5-pw-42b9",
  wire_plain: "Plain-pw-d03e",
} as const;

async function commandWorks(cmd: string, args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function clusterSkipReason(): Promise<string | null> {
  if (!(await commandWorks(`${PG_BIN}/initdb`, ["--version"]))) {
    return `no PostgreSQL binaries in ${PG_BIN}`;
  }
  if (!(await commandWorks("openssl", ["version"]))) return "no openssl command";
  if (Deno.uid() === 0 && !(await commandWorks("runuser", ["-u", "postgres", "--", "true"]))) {
    return "running as root and cannot run commands as the postgres user";
  }
  return null;
}

/** Run a PostgreSQL binary as the postgres OS user when we are root (initdb refuses root). */
async function runPg(tool: string, args: string[]): Promise<void> {
  const [cmd, all] = Deno.uid() === 0
    ? ["runuser", ["-u", "postgres", "--", `${PG_BIN}/${tool}`, ...args]]
    : [`${PG_BIN}/${tool}`, args];
  const out = await new Deno.Command(cmd, { args: all, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${tool} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

interface Cluster {
  readonly dir: string;
  readonly port: number;
}

/** A CA, and a server certificate for "localhost" only (no IP address) signed by it. */
async function makeCertificates(dir: string, data: string): Promise<void> {
  const openssl = (args: string) => run("openssl", args.split(" "));
  await openssl(
    `req -new -x509 -days 2 -nodes -subj /CN=strata-test-ca -keyout ${dir}/ca.key -out ${dir}/ca.crt`,
  );
  await openssl(
    `req -new -nodes -subj /CN=localhost -keyout ${data}/server.key -out ${dir}/server.csr`,
  );
  await Deno.writeTextFile(`${dir}/san.ext`, "subjectAltName=DNS:localhost\n");
  await openssl(
    `x509 -req -days 2 -in ${dir}/server.csr -CA ${dir}/ca.crt -CAkey ${dir}/ca.key ` +
      `-CAcreateserial -extfile ${dir}/san.ext -out ${data}/server.crt`,
  );
  await Deno.chmod(`${data}/server.key`, 0o600);
}

const HBA = [
  "local all postgres trust",
  "host all postgres 127.0.0.1/32 trust",
  "host all wire_scram 127.0.0.1/32 scram-sha-256",
  "host all wire_md5 127.0.0.1/32 md5",
  "host all wire_plain 127.0.0.1/32 password",
  "host all wire_limited 127.0.0.1/32 trust",
  "",
].join("\n");

async function startCluster(dir: string): Promise<Cluster> {
  const data = `${dir}/data`;
  const owner = Deno.uid() === 0
    ? [Number(await run("id", ["-u", "postgres"])), Number(await run("id", ["-g", "postgres"]))]
    : null;
  if (owner) await Deno.chown(dir, owner[0], owner[1]);
  await runPg("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"]);
  await makeCertificates(dir, data);
  if (owner) {
    for (const f of ["server.key", "server.crt"]) {
      await Deno.chown(`${data}/${f}`, owner[0], owner[1]);
    }
  }
  await Deno.writeTextFile(`${data}/pg_hba.conf`, HBA);
  const port = freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c ssl=on -c fsync=off`;
  await runPg("pg_ctl", [
    "-D",
    data,
    "-l",
    `${dir}/server.log`,
    "-w",
    "-t",
    "60",
    "-o",
    options,
    "start",
  ]);
  return { dir, port };
}

async function stopCluster(dir: string): Promise<void> {
  await runPg("pg_ctl", ["-D", `${dir}/data`, "-m", "immediate", "-w", "stop"]).catch(() => {});
  await Deno.remove(dir, { recursive: true });
}

function clusterConn(c: Cluster, user: string, extra: Partial<ConnectionOptions> = {}) {
  const display = `postgres://${user}:***@127.0.0.1:${c.port}/postgres`;
  return { ...parseDatabaseUrl(display, "test"), password: undefined, display, ...extra };
}

/** Every text a person could see from `err`: message, hint, details, the cause chain. */
function allText(err: unknown): string {
  return [describeError(err, { verbose: true }), JSON.stringify(err), String(err)].join("\n");
}

const skipCluster = await clusterSkipReason();
if (skipCluster && Deno.env.get("STRATA_TEST_REQUIRE_TOOLS") === "1") {
  throw new Error(
    `STRATA_TEST_REQUIRE_TOOLS=1 but the private-cluster tests cannot run: ${skipCluster}`,
  );
}

Deno.test({
  name: skipCluster
    ? `createWireDb() password and SSL tests skipped: ${skipCluster}`
    : "createWireDb() authenticates with scram-sha-256, md5 and password, and speaks SSL",
  ignore: skipCluster !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "strata_wire_pg_" });
    try {
      const c = await startCluster(dir);
      await withWire(clusterConn(c, "postgres", { host: dir, socketDir: dir }), async (db) => {
        await db.runScript(`
          SET password_encryption = 'scram-sha-256';
          CREATE ROLE wire_scram LOGIN PASSWORD '${PASSWORDS.wire_scram}';
          CREATE ROLE wire_plain LOGIN PASSWORD '${PASSWORDS.wire_plain}';
          SET password_encryption = 'md5';
          CREATE ROLE wire_md5 LOGIN PASSWORD '${PASSWORDS.wire_md5}';
          CREATE ROLE wire_limited LOGIN CONNECTION LIMIT 0;`);
      });
      for (const [user, password] of Object.entries(PASSWORDS)) {
        await t.step(
          `${user}: the right password connects, a wrong one is AUTH_FAILED`,
          async () => {
            await withWire(clusterConn(c, user, { password, sslmode: "disable" }), async (db) => {
              assert.deepEqual(await db.query("SELECT current_user AS u"), [{ u: user }]);
            });
            const wrong = `${password}-wrong`;
            const db = createWireDb(clusterConn(c, user, { password: wrong, sslmode: "disable" }));
            const err = await strataFailure(db.query("SELECT 1"), "AUTH_FAILED");
            assert.match(err.message, /password authentication failed/);
            assert.ok(!allText(err).includes(password), "no password in any message");
            const none = createWireDb(clusterConn(c, user, { sslmode: "disable" }));
            const missing = await strataFailure(none.query("SELECT 1"), "AUTH_FAILED");
            assert.match(missing.message, /none was given/);
          },
        );
      }
      await t.step(
        "sslmode=require and prefer encrypt without verifying (untrusted CA)",
        async () => {
          for (const sslmode of ["require", "prefer"] as const) {
            const conn = clusterConn(c, "wire_scram", { password: PASSWORDS.wire_scram, sslmode });
            await withWire(conn, async (db) => {
              const sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
              assert.deepEqual(await db.query(sql), [{ ssl: true }], sslmode);
            });
          }
        },
      );
      await t.step(
        "no pg_hba.conf entry is AUTH_FAILED; a full role is CONNECTION_FAILED",
        async () => {
          const refused = createWireDb(clusterConn(c, "wire_nobody", { sslmode: "disable" }));
          const err = await strataFailure(refused.query("SELECT 1"), "AUTH_FAILED");
          assert.match(err.message, /no pg_hba.conf entry/);
          const full = createWireDb(clusterConn(c, "wire_limited", { sslmode: "disable" }));
          const busy = await strataFailure(full.query("SELECT 1"), "CONNECTION_FAILED");
          assert.match(busy.message, /too many connections/);
          assert.match(busy.hint ?? "", /not ready/);
        },
      );
      await t.step("sslmode=disable does not encrypt", async () => {
        await withWire(clusterConn(c, "postgres", { sslmode: "disable" }), async (db) => {
          const sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
          assert.deepEqual(await db.query(sql), [{ ssl: false }]);
        });
      });
      await t.step(
        "verify-full and verify-ca refuse a certificate that does not verify",
        async () => {
          for (const sslmode of ["verify-full", "verify-ca"] as const) {
            const db = createWireDb(clusterConn(c, "postgres", { host: "localhost", sslmode }));
            const err = await strataFailure(db.query("SELECT 1"), "SSL_UNAVAILABLE");
            assert.match(err.details.join("\n"), /certificate did not verify/);
          }
        },
      );
      await t.step(
        "verify-full accepts a certificate from a trusted CA, for its host name only",
        async () => {
          // The CA is trusted only in a child process (deno --cert), never in this one.
          const wire = new URL("../lib/db/wire.ts", import.meta.url).href;
          const script = `
          import { createWireDb } from ${JSON.stringify(wire)};
          const base = { port: ${c.port}, user: "postgres", database: "postgres",
                         connectTimeoutSeconds: 10, display: "test" };
          const out = [];
          for (const [host, sslmode] of [["localhost", "verify-full"], ["localhost", "verify-ca"],
                                         ["127.0.0.1", "verify-full"]]) {
            const db = createWireDb({ ...base, host, sslmode });
            try {
              const [row] = await db.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
              out.push(row.ssl);
            } catch (e) {
              out.push(e.code + ": " + e.details.join(" "));
            } finally {
              await db.close();
            }
          }
          console.log(JSON.stringify(out));`;
          const child = await new Deno.Command(Deno.execPath(), {
            args: ["eval", "--quiet", "--cert", `${dir}/ca.crt`, script],
            stdout: "piped",
            stderr: "piped",
          }).output();
          const decoded = new TextDecoder().decode(child.stdout);
          assert.ok(child.success, new TextDecoder().decode(child.stderr));
          const [full, ca, wrongName] = JSON.parse(decoded);
          assert.deepEqual([full, ca], [true, true]);
          assert.match(wrongName, /^SSL_UNAVAILABLE: .*certificate did not verify/);
        },
      );
      await t.step("cancel works over SSL", async () => {
        await withWire(clusterConn(c, "postgres", { sslmode: "require" }), async (db) => {
          const [{ pid }] = await db.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
          const sleeping = serverFailure(db.query("SELECT pg_sleep(30)"), "57014");
          await withWire(clusterConn(c, "postgres", { sslmode: "disable" }), async (admin) => {
            await waitFor("pg_sleep", async () =>
              (await admin.query(
                "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'",
                [pid],
              )).length === 1, 30_000);
          });
          await db.cancel();
          await sleeping;
        });
      });
    } finally {
      await stopCluster(dir);
    }
  },
});
