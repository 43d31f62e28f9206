/**
 * `deno task bench:startup`: the fixed cost of every strata invocation, side
 * by side with its peers in one run. Each round runs every case once, in a
 * rotating order; the table shows medians and the ratio of strata to dbmate.
 * Not a test.
 *
 * Cases: an empty `deno run`; the driver floor (import + connect + SELECT 1
 * + close) for strata's wire driver and for postgres.js; psql's connect +
 * SELECT 1; `strata --version`; `current` and no-op `upgrade` with 5 and with
 * 1000 migrations applied; `validate` of 1000 offline; dbmate's `status` (5)
 * and no-op `up` (1000). With `--compare DIR`, a second strata checkout (say
 * the previous release) runs the same strata cases.
 *
 * Options: --rounds N (default 9), --compare DIR. Needs psql, a server
 * (STRATA_BENCH_URL), and npm (dbmate is installed into a temporary folder).
 */

import { parseArgs } from "node:util";
import { strataCommand } from "./strata_command.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "9" }, compare: { type: "string" } },
});
const ROUNDS = Number(values.rounds);
const ROOT = new URL("../", import.meta.url).pathname;
const ADMIN = Deno.env.get("STRATA_BENCH_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres";
const work = await Deno.makeTempDir({ prefix: "strata_startup_" });
const made: string[] = [];

function urlOf(db: string): string {
  const u = new URL(ADMIN);
  u.pathname = `/${db}`;
  return u.toString();
}

async function sh(cmd: string[], env: Record<string, string> = {}): Promise<void> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (!out.success) throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
}

async function psql(sql: string): Promise<void> {
  await sh(["psql", "-X", "-q", "-d", ADMIN, "-c", sql]);
}

async function freshDb(): Promise<string> {
  const name = `strata_startup_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await psql(`CREATE DATABASE ${name}`);
  made.push(name);
  return name;
}

/** A corpus of `n` tiny migrations in strata's layout and in dbmate's. */
async function corpus(n: number): Promise<{ strata: string; dbmate: string }> {
  const strata = `${work}/c${n}`;
  const dbmate = `${work}/c${n}_dbmate`;
  await Deno.mkdir(strata);
  await Deno.mkdir(dbmate);
  for (let i = 1; i <= n; i++) {
    const v = String(i).padStart(4, "0");
    const up = `CREATE TABLE t${i} (id int PRIMARY KEY, note text DEFAULT 'x');`;
    const down = `DROP TABLE t${i};`;
    await Deno.writeTextFile(`${strata}/${v}_t${i}.up.sql`, up);
    await Deno.writeTextFile(`${strata}/${v}_t${i}.down.sql`, down);
    await Deno.writeTextFile(
      `${dbmate}/${v}_t${i}.sql`,
      `-- migrate:up\n${up}\n-- migrate:down\n${down}\n`,
    );
  }
  return { strata, dbmate };
}

async function installDbmate(): Promise<string> {
  const prefix = `${work}/dbmate`;
  await sh(["npm", "install", "--silent", "--prefix", prefix, "dbmate@2"]);
  return `${prefix}/node_modules/.bin/dbmate`;
}

/** Scripts for the driver floor: import the driver, connect, SELECT 1, close. */
async function floorScripts(): Promise<{ wire: string; postgresjs: string; empty: string }> {
  const dir = `${ROOT}.strata`;
  await Deno.mkdir(dir, { recursive: true });
  const write = async (name: string, text: string) => {
    await Deno.writeTextFile(`${dir}/${name}`, text);
    return `${dir}/${name}`;
  };
  return {
    empty: await write("bench_empty.ts", "\n"),
    wire: await write(
      "bench_floor_wire.ts",
      `import { parseDatabaseUrl } from "../lib/core/database_url.ts";\n` +
        `import { createWireDb } from "../lib/db/wire.ts";\n` +
        `const db = createWireDb(parseDatabaseUrl(Deno.args[0], "bench"));\n` +
        `await db.query("SELECT 1");\nawait db.close();\n`,
    ),
    postgresjs: await write(
      "bench_floor_postgresjs.ts",
      `import postgres from "postgres";\n` +
        `const sql = postgres(Deno.args[0], { max: 1, fetch_types: false });\n` +
        "await sql`SELECT 1`;\nawait sql.end();\n",
    ),
  };
}

const samples = new Map<string, number[]>();

async function time(key: string, cmd: string[], env: Record<string, string> = {}): Promise<void> {
  const t0 = performance.now();
  await sh(cmd, { NO_COLOR: "1", ...env });
  const list = samples.get(key) ?? [];
  list.push(performance.now() - t0);
  samples.set(key, list);
}

function median(key: string): number | undefined {
  const xs = [...(samples.get(key) ?? [])].sort((a, b) => a - b);
  return xs.length ? xs[Math.floor(xs.length / 2)] : undefined;
}

const deno = Deno.execPath();
const RUN = ["run", "--quiet", "--no-check", "-A"];
const strata = strataCommand();
const other = values.compare ? strataCommand(values.compare) : null;
const dbmate = await installDbmate();
const floors = await floorScripts();
const small = await corpus(5);
const large = await corpus(1000);
const [dbm5, dbm1000] = [await freshDb(), await freshDb()];
const dbm = (
  db: string,
  dir: string,
) => [dbmate, "--no-dump-schema", "--migrations-dir", dir, "--url", `${urlOf(db)}?sslmode=disable`];
await sh([...dbm(dbm5, small.dbmate), "up"]);
await sh([...dbm(dbm1000, large.dbmate), "up"]);

/** Two databases (5 and 1000 migrations applied) migrated by `cmd`. */
async function migrated(cmd: string[]): Promise<{ db5: string; db1000: string }> {
  const dbs = { db5: await freshDb(), db1000: await freshDb() };
  await sh([...cmd, "--dir", small.strata, "--database-url", urlOf(dbs.db5), "upgrade"]);
  await sh([...cmd, "--dir", large.strata, "--database-url", urlOf(dbs.db1000), "upgrade"]);
  return dbs;
}
const mine = await migrated(strata);
const theirs = other ? await migrated(other) : null;

function strataCases(
  label: string,
  cmd: string[],
  { db5, db1000 }: { db5: string; db1000: string },
): Array<[string, string[]]> {
  const on = (db: string, dir: string) => [...cmd, "--dir", dir, "--database-url", urlOf(db)];
  return [
    [`${label}|--version`, [...cmd, "--version"]],
    [`${label}|current (5)`, [...on(db5, small.strata), "current"]],
    [`${label}|no-op upgrade (5)`, [...on(db5, small.strata), "upgrade"]],
    [`${label}|current (1000)`, [...on(db1000, large.strata), "current"]],
    [`${label}|no-op upgrade (1000)`, [...on(db1000, large.strata), "upgrade"]],
    [`${label}|validate 1000 offline`, [...cmd, "--dir", large.strata, "validate"]],
  ];
}

const cases: Array<[string, string[]]> = [
  ["floor|empty deno run", [deno, ...RUN, floors.empty]],
  ["floor|wire: import + connect + SELECT 1", [deno, ...RUN, floors.wire, urlOf(dbm5)]],
  ["floor|postgres.js: import + connect + SELECT 1", [
    deno,
    ...RUN,
    floors.postgresjs,
    urlOf(dbm5),
  ]],
  ["floor|psql: connect + SELECT 1", ["psql", "-X", "-q", "-d", urlOf(dbm5), "-c", "SELECT 1"]],
  ["dbmate|status (5)", [...dbm(dbm5, small.dbmate), "status"]],
  ["dbmate|no-op up (1000)", [...dbm(dbm1000, large.dbmate), "up"]],
  ...strataCases("strata", strata, mine),
  ...(other && theirs ? strataCases("compare", other, theirs) : []),
];

try {
  for (let round = 0; round < ROUNDS; round++) {
    const start = round % cases.length;
    for (const [key, cmd] of [...cases.slice(start), ...cases.slice(0, start)]) {
      await time(key, cmd);
    }
  }
  report();
} finally {
  for (const name of made) await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await Deno.remove(work, { recursive: true });
}

function report(): void {
  const fmt = (ms: number | undefined) => (ms === undefined ? "-" : `${ms.toFixed(0)} ms`);
  const ratio = (a: number | undefined, b: number | undefined) =>
    a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}x` : "-";
  const peers: Record<string, string> = {
    "current (5)": "dbmate|status (5)",
    "no-op upgrade (1000)": "dbmate|no-op up (1000)",
  };
  console.log(`| case | strata | ${other ? "compare | " : ""}strata / dbmate |`);
  console.log(`| --- | --- | ${other ? "--- | " : ""}--- |`);
  for (const [key] of cases) {
    if (!key.startsWith("floor|") && !key.startsWith("dbmate|")) continue;
    console.log(`| ${key.replace("|", ": ")} | ${fmt(median(key))} | ${other ? "| " : ""}|`);
  }
  for (const [key] of strataCases("strata", [], mine)) {
    const name = key.split("|")[1];
    const peer = peers[name];
    console.log(
      `| strata ${name} | ${fmt(median(key))} | ` +
        (other ? `${fmt(median(`compare|${name}`))} | ` : "") +
        `${peer ? ratio(median(key), median(peer)) : ""} |`,
    );
  }
  console.log(`\nmedians of ${ROUNDS} rounds, cases in rotating order`);
}
