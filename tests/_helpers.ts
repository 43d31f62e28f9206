/**
 * Test harness: find a PostgreSQL server, give each test a fresh
 * `strata_test_<random>` database (dropped afterwards), and run the CLI as a
 * subprocess the way users do.
 *
 * Server: STRATA_TEST_DATABASE_URL, else 127.0.0.1:5432 as postgres, else a
 * throwaway `postgres:16` container when `docker info` succeeds, else the
 * server tests are skipped with one printed line, which
 * STRATA_TEST_REQUIRE_SERVER=1 turns into a failure.
 */

import postgres from "postgres";
import { cacheDirFrom } from "../lib/core/config.ts";
import { lockKey } from "../lib/db/session.ts";
import type { Db } from "../lib/core/types.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const NAME_GUARD = /^strata_test_[a-z0-9_]+$/;

type Server = { url: string } | { skip: string };

async function canConnect(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {}, fetch_types: false });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function dockerServer(): Promise<Server> {
  let info: Deno.CommandOutput;
  try {
    info = await new Deno.Command("docker", { args: ["info"], stdout: "null", stderr: "null" })
      .output();
  } catch {
    return { skip: "no PostgreSQL on 127.0.0.1:5432 and no docker command" };
  }
  if (!info.success) {
    return { skip: "no PostgreSQL on 127.0.0.1:5432 and no Docker engine (docker info failed)" };
  }
  const name = `strata_test_pg_${Deno.pid}`;
  const run = await new Deno.Command("docker", {
    args: [
      "run",
      "-d",
      "--rm",
      "--name",
      name,
      "-e",
      "POSTGRES_HOST_AUTH_METHOD=trust",
      "-p",
      "127.0.0.1::5432",
      "postgres:16",
    ],
  }).output();
  if (!run.success) {
    return {
      skip: `docker run postgres:16 failed: ${new TextDecoder().decode(run.stderr).trim()}`,
    };
  }
  globalThis.addEventListener("unload", () => {
    new Deno.Command("docker", { args: ["rm", "-f", name], stdout: "null", stderr: "null" })
      .outputSync();
  });
  const port = new TextDecoder().decode(
    (await new Deno.Command("docker", { args: ["port", name, "5432"] }).output()).stdout,
  ).trim().split(":").pop();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 60; i++) {
    if (await canConnect(url)) return { url };
    await new Promise((r) => setTimeout(r, 500));
  }
  return { skip: "the postgres:16 container did not accept connections within 30 s" };
}

async function findServer(): Promise<Server> {
  const explicit = Deno.env.get("STRATA_TEST_DATABASE_URL");
  if (explicit) {
    return await canConnect(explicit)
      ? { url: explicit }
      : { skip: "STRATA_TEST_DATABASE_URL does not accept connections" };
  }
  const local = "postgres://postgres@127.0.0.1:5432/postgres";
  if (await canConnect(local)) return { url: local };
  return await dockerServer();
}

const server = await findServer();
const required = Deno.env.get("STRATA_TEST_REQUIRE_SERVER") === "1";
/**
 * Register the one line that says why the server tests are skipped (an ignored
 * test, because `deno test --quiet` hides console output printed at load time).
 * Called once, from cli_test.ts.
 */
export function announceServerSkip(): void {
  if (!("skip" in server) || required) return;
  Deno.test({ name: `server tests skipped: ${server.skip}`, ignore: true, fn() {} });
}

/** A fresh database for one test. `url` points at it; `sql` is an admin client on it. */
export interface TestDb {
  readonly name: string;
  readonly url: string;
  readonly sql: postgres.Sql;
}

function urlFor(base: string, database: string): string {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/** The admin URL of the test server (for tests that build their own URLs). */
export function serverUrl(): string {
  if ("skip" in server) throw new Error(server.skip);
  return server.url;
}

/** Create `strata_test_<random>`, run `fn`, and drop it whatever happens. */
export async function withTestDb(fn: (db: TestDb) => Promise<void>): Promise<void> {
  const base = serverUrl();
  const name = `strata_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = postgres(base, { max: 1, onnotice: () => {}, fetch_types: false });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = urlFor(base, name);
  const sql = postgres(url, { max: 2, onnotice: () => {}, fetch_types: false });
  try {
    await fn({ name, url, sql });
  } finally {
    await sql.end({ timeout: 1 });
    await dropTestDatabase(admin, name);
    await admin.end({ timeout: 1 });
  }
}

async function dropTestDatabase(admin: postgres.Sql, name: string): Promise<void> {
  if (!NAME_GUARD.test(name)) {
    throw new Error(`refusing to drop "${name}": not a strata_test_ database`);
  }
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/**
 * Register a test that needs a server. Without one it is skipped (ignored),
 * or fails under STRATA_TEST_REQUIRE_SERVER=1.
 */
export function serverTest(name: string, fn: (db: TestDb) => Promise<void>): void {
  const missing = "skip" in server;
  Deno.test({
    name,
    ignore: missing && !required,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      if (missing) throw new Error(`STRATA_TEST_REQUIRE_SERVER=1 but ${server.skip}`);
      await withTestDb(fn);
    },
  });
}

/** The outcome of one CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run the CLI in a test. */
export interface CliOptions {
  readonly env?: Record<string, string>;
  /** The working directory; a run with one is always a subprocess. */
  readonly cwd?: string;
  /** Run `main.ts` as a subprocess even without `cwd` (for what only a process shows). */
  readonly process?: boolean;
  /** In-process runs: called with each piece of stderr as it is written (to wait on events). */
  readonly onStderr?: (text: string) => void;
}

/**
 * Run strata with a clean environment (only PATH, HOME, NO_COLOR and `env`):
 * in this process through `run(args, io)` — what the CLI does, without a
 * process start — or, with `cwd` or `process`, as `main.ts` in a subprocess
 * with the permissions of `deno task strata`. Both give the same exit code,
 * stdout and stderr.
 */
export async function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  if (options.cwd !== undefined || options.process) return await finishCli(spawnCli(args, options));
  const { run } = await import("../lib/cli/cli.ts");
  let stdout = "";
  let stderr = "";
  const code = await run(args, {
    stdout: (text) => void (stdout += text),
    stderr: (text) => {
      stderr += text;
      options.onStderr?.(text);
    },
    env: cleanEnv(options.env),
    isTty: false,
    stderrIsTty: false,
    readTextFile: (path) => Deno.readTextFile(path),
  });
  return { code, stdout, stderr };
}

/**
 * strata's cache folder as the CLI finds it here: tests that open PGlite
 * themselves pass it, so they start from the cached seed as the CLI does
 * instead of paying initdb (seconds of CPU) each time.
 */
export const PGLITE_CACHE = cacheDirFrom({
  STRATA_CACHE_DIR: Deno.env.get("STRATA_CACHE_DIR"),
  XDG_CACHE_HOME: Deno.env.get("XDG_CACHE_HOME"),
  HOME: Deno.env.get("HOME"),
});

/** The environment a CLI subprocess gets: PATH, HOME, NO_COLOR and `env`, nothing else. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    NO_COLOR: "1",
    ...env,
  };
}

/** `deno` and its arguments up to main.ts: the strata task's permissions, as a test runs it. */
export const STRATA_COMMAND: readonly string[] = [
  Deno.execPath(),
  "run",
  "--quiet",
  "--no-check",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-net",
  "--allow-run=alembic,pg_dump",
  `${ROOT}main.ts`,
];

/** Start `main.ts` like `runCli`, but return the running process (to signal or kill it). */
export function spawnCli(args: string[], options: CliOptions = {}): Deno.ChildProcess {
  return new Deno.Command(STRATA_COMMAND[0], {
    args: [...STRATA_COMMAND.slice(1), ...args],
    cwd: options.cwd ?? ROOT,
    clearEnv: true,
    env: cleanEnv(options.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** A running CLI process whose stderr can be waited on while it runs. */
export interface WatchedCli {
  /** Resolves once stderr so far matches `pattern` (rejects if the process ends first). */
  waitForStderr(pattern: RegExp, what?: string): Promise<void>;
  /** The exit code and all output, once the process ends. */
  finish(): Promise<CliResult>;
}

/** Spawn `main.ts` like `spawnCli`, reading its stderr as it comes. */
export function watchCli(args: string[], options: CliOptions = {}): WatchedCli & {
  readonly child: Deno.ChildProcess;
} {
  const child = spawnCli(args, options);
  const dec = new TextDecoder();
  let stderr = "";
  let ended = false;
  const waiters: Array<() => void> = [];
  const reading = (async () => {
    for await (const chunk of child.stderr) {
      stderr += dec.decode(chunk, { stream: true });
      [...waiters].forEach((w) => w());
    }
    ended = true;
    [...waiters].forEach((w) => w());
  })();
  const stdout = new Response(child.stdout).text();
  return {
    child,
    waitForStderr: (pattern, what) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(stderr)) resolve();
          else if (ended) {
            reject(new Error(`the process ended before ${what ?? pattern}:\n${stderr}`));
          } else return;
          waiters.splice(waiters.indexOf(check), 1);
        };
        waiters.push(check);
        check();
      }),
    finish: async () => {
      const status = await child.status;
      await reading;
      return { code: status.code, stdout: await stdout, stderr };
    },
  };
}

/** Wait for a spawned CLI and collect its exit code and output. */
export async function finishCli(child: Deno.ChildProcess): Promise<CliResult> {
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Poll until `check` returns true, or fail after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * True when no session holds strata's migration lock for `table` in `db`'s
 * own database. Advisory locks are per database, and other tests running at
 * the same time take the same key in theirs.
 */
export async function migrationLockFree(
  db: TestDb,
  table = { schema: "public", name: "strata_migrations" },
): Promise<boolean> {
  const key = await lockKey(table);
  const rows = await db.sql`SELECT 1 FROM pg_catalog.pg_locks
    WHERE locktype = 'advisory' AND granted
      AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = ${db.name})
      AND classid::bigint = ${String((key >> 32n) & 0xffffffffn)}
      AND objid::bigint = ${String(key & 0xffffffffn)}`;
  return rows.length === 0;
}

/** A temporary migrations directory holding `files` (name to text); removed by the caller's `finally`. */
export async function tempMigrations(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_" });
  for (const [name, text] of Object.entries(files)) {
    if (typeof text === "string") await Deno.writeTextFile(`${dir}/${name}`, text);
    else await Deno.writeFile(`${dir}/${name}`, text);
  }
  return dir;
}

/** A catalog fingerprint of user objects (tables, columns, indexes, types, functions, triggers). */
export async function schemaFingerprint(sql: postgres.Sql): Promise<string> {
  const rows = await sql.unsafe(`
    SELECT 'col ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable ||
           ' ' || coalesce(column_default, '') AS x
      FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'idx ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT 'type ' || t.typname || ' ' || coalesce(string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder), '')
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_enum e ON e.enumtypid = t.oid
     WHERE n.nspname = 'public' AND t.typtype = 'e' GROUP BY t.typname
    UNION ALL SELECT 'fn ' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
    UNION ALL SELECT 'trg ' || tgname FROM pg_trigger WHERE NOT tgisinternal
    ORDER BY 1`);
  return rows.map((r) => r.x).join("\n");
}

/** Apply `script` with `psql -v ON_ERROR_STOP=1 -f -`, as README says; throws with psql's stderr. */
export async function applyWithPsql(url: string, script: string): Promise<void> {
  const child = new Deno.Command("psql", {
    args: ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", "-"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`psql failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Open strata's default driver on `url`, run `fn`, close whatever happens. */
export async function withDb(url: string, fn: (db: Db) => Promise<void>): Promise<void> {
  const { parseDatabaseUrl } = await import("../lib/core/database_url.ts");
  const { createWireDb } = await import("../lib/db/wire.ts");
  const db = createWireDb(parseDatabaseUrl(url, "test"));
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}
