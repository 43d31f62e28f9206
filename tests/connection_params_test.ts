/**
 * Connection URLs with `application_name`, `options` and `sslrootcert`
 * (verify-full against a private CA, through a TLS front made here with
 * openssl certificates), on both server drivers; `.env` lines as dotenv
 * reads them, and errors about their values naming the file.
 */

import assert from "node:assert/strict";
import { parseEnvFile } from "../lib/core/config.ts";
import { connectionFromEnv, parseDatabaseUrl } from "../lib/core/database_url.ts";
import { runCli, serverTest, serverUrl, tempMigrations } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const DRIVERS = ["wire", "postgresjs"] as const;

Deno.test("parseDatabaseUrl() accepts application_name, options and sslrootcert", () => {
  const c = parseDatabaseUrl(
    "postgres://u@h/db?application_name=deployer&options=-c%20search_path%3Dapp&sslrootcert=/ca.pem",
    "--database-url",
  );
  assert.equal(c.applicationName, "deployer");
  assert.equal(c.options, "-c search_path=app");
  assert.equal(c.sslRootCert, "/ca.pem");
  const plain = parseDatabaseUrl("postgres://u@h/db", "x");
  assert.equal(plain.applicationName, undefined);
  const env = connectionFromEnv({
    PGHOST: "h",
    PGAPPNAME: "a",
    PGOPTIONS: "-c x=1",
    PGSSLROOTCERT: "c",
  });
  assert.deepEqual([env.applicationName, env.options, env.sslRootCert], ["a", "-c x=1", "c"]);
  assert.throws(
    () => parseDatabaseUrl("postgres://u@h/db?nope=1", "x"),
    /unknown parameter "nope"/,
  );
});

Deno.test("parseEnvFile() reads quotes and trailing # comments like dotenv", () => {
  const env = parseEnvFile(
    [
      'DATABASE_URL="postgres://a:b@h/db" # production',
      "PGUSER='bob' # single-quoted",
      "PGHOST=db.internal   # unquoted, comment after spaces",
      "STRATA_DIR=migrations#no space",
      'PGPASSWORD="p#q \\"r\\""',
      "PGDATABASE=",
      "STRATA_TABLE=`ops.versions` # backticks",
      "PGAPPNAME='keeps \\n as written'",
    ].join("\n"),
    ".env",
  );
  assert.deepEqual(env, {
    DATABASE_URL: "postgres://a:b@h/db",
    PGUSER: "bob",
    PGHOST: "db.internal",
    STRATA_DIR: "migrations",
    PGPASSWORD: 'p#q "r"',
    PGDATABASE: "",
    STRATA_TABLE: "ops.versions",
    PGAPPNAME: "keeps \\n as written",
  });
});

Deno.test("an error about a value from .env names .env", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "strata_test_env_" });
  try {
    await Deno.writeTextFile(`${cwd}/.env`, "STRATA_LOCK_WAIT=soon # oops\n");
    const wait = await runCli(["--dir", EXAMPLES, "current"], { cwd });
    assert.equal(wait.code, 2);
    assert.match(wait.stderr, /STRATA_LOCK_WAIT \(in \.env\) "soon": not a duration/);
    await Deno.writeTextFile(`${cwd}/.env`, 'DATABASE_URL="mysql://x@y/z" # wrong scheme\n');
    const url = await runCli(["--dir", EXAMPLES, "current"], { cwd });
    assert.equal(url.code, 2);
    assert.match(url.stderr, /from DATABASE_URL \(in \.env\): unsupported scheme "mysql:"/);
    await Deno.writeTextFile(`${cwd}/.env`, "DATABASE_URL=postgres://postgres@127.0.0.1:1/x\n");
    const refused = await runCli(["--dir", EXAMPLES, "current"], { cwd });
    assert.equal(refused.code, 3);
    assert.match(refused.stderr, /the connection settings came from \.env \(DATABASE_URL\)/);
    const real = await runCli(["--dir", EXAMPLES, "current"], {
      cwd,
      env: { DATABASE_URL: "postgres://postgres@127.0.0.1:1/x" },
    });
    assert.equal(real.code, 3);
    assert.doesNotMatch(real.stderr, /\.env/, "a value from the real environment is not .env's");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

for (const driver of DRIVERS) {
  serverTest(
    `${driver}: application_name and options=-c search_path=app reach the session`,
    async (db) => {
      await db.sql.unsafe("CREATE SCHEMA app");
      const dir = await tempMigrations({
        "0001_a.up.sql": "CREATE TABLE seen AS SELECT current_setting('application_name') AS app;",
        "0002_b.up.sql": "CREATE TABLE second (x int);",
      });
      try {
        const url = `${db.url}?application_name=deployer&options=-c%20search_path%3Dapp`;
        const r = await runCli(["--dir", dir, "--database-url", url, "upgrade"], {
          env: { STRATA_DRIVER: driver },
        });
        assert.equal(r.code, 0, r.stderr);
        const [{ app }] = await db.sql`SELECT app FROM app.seen`;
        assert.equal(app, "deployer");
        const tables = await db.sql`SELECT tablename FROM pg_tables WHERE schemaname = 'app'
        ORDER BY 1`;
        assert.deepEqual(tables.map((t) => t.tablename), ["second", "seen"]);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

/** A private CA and a server certificate for 127.0.0.1 / localhost, made with openssl. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  const subj = (cn: string) => ["-subj", `/CN=${cn}`];
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    ...subj("strata test CA"),
  );
  await openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "other.key",
    "-out",
    "other.pem",
    "-days",
    "2",
    ...subj("another CA"),
  );
  await openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    ...subj("localhost"),
  );
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  );
}

/**
 * A PostgreSQL front that speaks SSL: it answers the client's SSLRequest
 * with S, then hands the stream to a TLS listener (the private CA's server
 * certificate) that forwards the plaintext to the test server.
 */
function startTlsFront(dir: string, upstream: URL): { port: number; close(): void } {
  const pipe = (a: Deno.Conn, b: Deno.Conn) => a.readable.pipeTo(b.writable).catch(() => {});
  const tls = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    key: Deno.readTextFileSync(`${dir}/server.key`),
    cert: Deno.readTextFileSync(`${dir}/server.pem`),
  });
  const target = { hostname: upstream.hostname, port: Number(upstream.port || 5432) };
  (async () => {
    for await (const c of tls) {
      Deno.connect(target).then((pg) => (pipe(c, pg), pipe(pg, c)), () => c.close());
    }
  })().catch(() => {});
  const front = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tlsPort = (tls.addr as Deno.NetAddr).port;
  (async () => {
    for await (const c of front) {
      (async () => {
        const request = new Uint8Array(8);
        for (let n = 0; n < 8;) {
          const r = await c.read(request.subarray(n));
          if (r === null) return c.close();
          n += r;
        }
        await c.write(new TextEncoder().encode("S"));
        const back = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort });
        pipe(c, back);
        pipe(back, c);
      })().catch(() => {});
    }
  })().catch(() => {});
  return { port: (front.addr as Deno.NetAddr).port, close: () => (front.close(), tls.close()) };
}

serverTest("sslrootcert: verify-full against a private CA, on both drivers", async (db) => {
  const certs = await Deno.makeTempDir({ prefix: "strata_test_ca_" });
  await makeCertificates(certs);
  const front = startTlsFront(certs, new URL(serverUrl()));
  const url = (host: string, query: string) =>
    `postgres://postgres@${host}:${front.port}/${db.name}?${query}`;
  try {
    for (const driver of DRIVERS) {
      const env = { STRATA_DRIVER: driver };
      const run = (u: string) =>
        runCli(["--dir", EXAMPLES, "--database-url", u, "current"], { env });
      for (const host of ["127.0.0.1", "localhost"]) {
        const ok = await run(url(host, `sslmode=verify-full&sslrootcert=${certs}/ca.pem`));
        assert.equal(ok.code, 0, `${driver} ${host}: ${ok.stderr}`);
        assert.equal(ok.stdout, "base (no migrations applied)\n");
      }
      const required = await run(url("127.0.0.1", `sslmode=require&sslrootcert=${certs}/ca.pem`));
      assert.equal(required.code, 0, `${driver}: ${required.stderr}`);
      const noCa = await run(url("127.0.0.1", "sslmode=verify-full"));
      assert.equal(noCa.code, 3, `${driver}: a private CA is not trusted without sslrootcert`);
      assert.match(noCa.stderr, /SSL_UNAVAILABLE/);
      const wrongCa = await run(url("127.0.0.1", `sslmode=require&sslrootcert=${certs}/other.pem`));
      assert.equal(wrongCa.code, 3, `${driver}: require with sslrootcert verifies`);
      assert.match(wrongCa.stderr, /SSL_UNAVAILABLE/, `${driver}: ${wrongCa.stderr}`);
      const missing = await run(url("127.0.0.1", `sslmode=verify-full&sslrootcert=${certs}/nope`));
      assert.equal(missing.code, 2, `${driver}: ${missing.stderr}`);
      assert.match(missing.stderr, /BAD_DATABASE_URL.*sslrootcert ".*nope"/);
    }
  } finally {
    front.close();
    await Deno.remove(certs, { recursive: true });
  }
});
