/**
 * `deno task bench`: strata against psql (the limit) and dbmate on one
 * machine, in one run, alternating tools each round; prints a markdown table
 * of median wall time, peak RSS and the ratio to psql. Not a test.
 *
 * Options: --rounds N (default 3), --quick (skip the 200k-row corpus),
 * --compare DIR (also run another strata checkout, say the previous release,
 * on the same work: its column is "compare").
 * Needs psql and a server (STRATA_BENCH_URL, default postgres://postgres@127.0.0.1:5432/postgres);
 * installs dbmate from npm into a temporary folder. Drops every database it makes.
 */

import { parseArgs } from "node:util";
import postgres from "postgres";
import { strataCommand } from "./strata_command.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    compare: { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const ROOT = new URL("../", import.meta.url).pathname;
const ADMIN_URL = Deno.env.get("STRATA_BENCH_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres";
const work = await Deno.makeTempDir({ prefix: "strata_bench_" });
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const made: string[] = [];

interface Sample {
  ms: number;
  rssKb: number;
}
const samples = new Map<string, Sample[]>();

function urlOf(db: string): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

async function freshDb(): Promise<string> {
  const name = `strata_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  made.push(name);
  return name;
}

async function dropAll(): Promise<void> {
  for (const name of made.splice(0)) {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Run a command under /usr/bin/time; record wall ms and peak RSS under `key`. */
async function measure(
  key: string,
  cmd: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
) {
  const timeFile = `${work}/time.txt`;
  const t0 = performance.now();
  const child = new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", "-o", timeFile, ...cmd],
    stdin: options.stdin ? "piped" : "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1", ...options.env },
  }).spawn();
  if (options.stdin) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const ms = performance.now() - t0;
  if (!out.success) {
    throw new Error(`${key}: ${cmd.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  const rssKb = Number((await Deno.readTextFile(timeFile)).trim().split("\n").pop());
  const list = samples.get(key) ?? [];
  list.push({ ms, rssKb });
  samples.set(key, list);
}

// ---- corpora -------------------------------------------------------------

interface Corpus {
  name: string;
  dir: string;
  dbmateDir: string;
  perFileUp: string;
  perFileDown: string;
  plainUp: string;
}

async function writeCorpus(
  name: string,
  files: Array<{ version: string; slug: string; up: string; down: string }>,
) {
  const dir = `${work}/${name}`;
  const dbmateDir = `${work}/${name}_dbmate`;
  await Deno.mkdir(dir);
  await Deno.mkdir(dbmateDir);
  for (const f of files) {
    await Deno.writeTextFile(`${dir}/${f.version}_${f.slug}.up.sql`, f.up);
    await Deno.writeTextFile(`${dir}/${f.version}_${f.slug}.down.sql`, f.down);
    await Deno.writeTextFile(
      `${dbmateDir}/${f.version}_${f.slug}.sql`,
      `-- migrate:up\n${f.up}\n-- migrate:down\n${f.down}\n`,
    );
  }
  const corpus: Corpus = {
    name,
    dir,
    dbmateDir,
    perFileUp: `${work}/${name}_up.sql`,
    perFileDown: `${work}/${name}_down.sql`,
    plainUp: `${work}/${name}_plain.sql`,
  };
  await Deno.writeTextFile(
    corpus.perFileUp,
    files.map((f) => `BEGIN;\n${f.up}\nCOMMIT;\n`).join(""),
  );
  await Deno.writeTextFile(
    corpus.perFileDown,
    [...files].reverse().map((f) => `BEGIN;\n${f.down}\nCOMMIT;\n`).join(""),
  );
  await Deno.writeTextFile(corpus.plainUp, files.map((f) => f.up + "\n").join(""));
  return corpus;
}

function tiny(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    version: String(i + 1).padStart(4, "0"),
    slug: `t${i + 1}`,
    up: `CREATE TABLE t${i + 1} (id int PRIMARY KEY, note text DEFAULT 'x');`,
    down: `DROP TABLE t${i + 1};`,
  }));
}

function realistic(n = 20) {
  return Array.from({ length: n }, (_, i) => {
    const t = `entity${i + 1}`;
    return {
      version: String(i + 1).padStart(4, "0"),
      slug: t,
      up:
        `CREATE TABLE ${t} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,\n` +
        `  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'done')), updated_at timestamptz);\n` +
        `CREATE INDEX ${t}_name ON ${t} (name);\n` +
        `CREATE FUNCTION ${t}_touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$$;\n` +
        `CREATE TRIGGER ${t}_touch BEFORE UPDATE ON ${t} FOR EACH ROW EXECUTE FUNCTION ${t}_touch();\n` +
        `INSERT INTO ${t} (name) SELECT 'row ' || g FROM generate_series(1, 500) g;`,
      down: `DROP TABLE ${t};\nDROP FUNCTION ${t}_touch();`,
    };
  });
}

function bigInsert(rows: number) {
  const values = Array.from(
    { length: rows },
    (_, i) => `(${i}, 'name ${i}; with a semicolon', E'it\\'s ${i}')`,
  );
  return [{
    version: "0001",
    slug: "big_insert",
    up: `CREATE TABLE big (id int PRIMARY KEY, name text, note text);\nINSERT INTO big VALUES\n${
      values.join(",\n")
    };`,
    down: "DROP TABLE big;",
  }];
}

// ---- tools ---------------------------------------------------------------

const STRATA = strataCommand();
const COMPARE = values.compare ? strataCommand(values.compare) : null;
const PSQL = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"];

async function installDbmate(): Promise<string> {
  const prefix = `${work}/dbmate`;
  const out = await new Deno.Command("npm", {
    args: ["install", "--silent", "--prefix", prefix, "dbmate@2"],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`npm install dbmate failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return `${prefix}/node_modules/.bin/dbmate`;
}

async function writeFloorScript(): Promise<string> {
  const path = `${ROOT}.strata/bench_floor.ts`;
  await Deno.mkdir(`${ROOT}.strata`, { recursive: true });
  await Deno.writeTextFile(
    path,
    `import postgres from "postgres";\nconst sql = postgres(Deno.args[0], { max: 1, fetch_types: false });\n` +
      `await sql\`SELECT 1\`;\nawait sql.end();\n`,
  );
  return path;
}

async function benchCorpus(c: Corpus, dbmate: string, round: number): Promise<void> {
  const jobs: Array<[string, () => Promise<void>]> = [
    ["psql", async () => {
      const db = urlOf(await freshDb());
      await measure(`${c.name}|apply|psql`, [...PSQL, "-d", db, "-f", c.perFileUp]);
      await measure(`${c.name}|rollback|psql`, [...PSQL, "-d", db, "-f", c.perFileDown]);
    }],
    ["psql-1tx", async () => {
      const db = urlOf(await freshDb());
      await measure(`${c.name}|apply 1 tx|psql`, [...PSQL, "-1", "-d", db, "-f", c.plainUp]);
    }],
    ["strata", async () => {
      const db = urlOf(await freshDb());
      const base = [...STRATA, "--dir", c.dir, "--database-url", db];
      await measure(`${c.name}|apply|strata`, [...base, "upgrade"]);
      await measure(`${c.name}|no-op upgrade|strata`, [...base, "upgrade"]);
      await measure(`${c.name}|rollback|strata`, [...base, "downgrade", "base"]);
    }],
    ...(COMPARE ? compareJobs(c, COMPARE) : []),
    ["strata-1tx", async () => {
      const db = urlOf(await freshDb());
      await measure(`${c.name}|apply 1 tx|strata`, [
        ...STRATA,
        "--dir",
        c.dir,
        "--database-url",
        db,
        "upgrade",
        "--single-transaction",
      ]);
    }],
    ["dbmate", async () => {
      const db = urlOf(await freshDb()) + "?sslmode=disable";
      const base = [dbmate, "--no-dump-schema", "--migrations-dir", c.dbmateDir, "--url", db];
      await measure(`${c.name}|apply|dbmate`, [...base, "up"]);
      await measure(`${c.name}|no-op upgrade|dbmate`, [...base, "up"]);
    }],
    ["strata-pglite", async () => {
      await measure(`${c.name}|apply|strata pglite:memory`, [
        ...STRATA,
        "--dir",
        c.dir,
        "--database-url",
        "pglite:memory",
        "upgrade",
      ]);
    }],
  ];
  const rotated = [...jobs.slice(round % jobs.length), ...jobs.slice(0, round % jobs.length)];
  for (const [, job] of rotated) await job();
  await measure(`${c.name}|dry-run|strata`, [
    ...STRATA,
    "--dir",
    c.dir,
    "upgrade",
    "--dry-run",
    "--from",
    "base",
  ]);
  await dropAll();
}

/** The same strata work for the `--compare` checkout. */
function compareJobs(c: Corpus, cmd: string[]): Array<[string, () => Promise<void>]> {
  return [
    ["compare", async () => {
      const base = [...cmd, "--dir", c.dir, "--database-url", urlOf(await freshDb())];
      await measure(`${c.name}|apply|compare`, [...base, "upgrade"]);
      await measure(`${c.name}|no-op upgrade|compare`, [...base, "upgrade"]);
      await measure(`${c.name}|rollback|compare`, [...base, "downgrade", "base"]);
    }],
    ["compare-1tx", async () => {
      const base = [...cmd, "--dir", c.dir, "--database-url", urlOf(await freshDb())];
      await measure(`${c.name}|apply 1 tx|compare`, [...base, "upgrade", "--single-transaction"]);
    }],
  ];
}

// ---- the embedded database: start, verify, drift -----------------------------

/** A script that opens `pglite:memory` with `root`'s driver and prints ms to the first query. */
async function writeReadyScript(): Promise<string> {
  const path = `${work}/pglite_ready.ts`;
  await Deno.writeTextFile(
    path,
    `const root = Deno.args[0];\n` +
      `const t0 = performance.now();\n` +
      `const mod = await import(root + "lib/db/pglite.ts").catch(() => import(root + "lib/db_pglite.ts"));\n` +
      `const db = await mod.createPgliteDb({ kind: "pglite", dataDir: null, display: "pglite:memory" },\n` +
      `  { cacheDir: (Deno.env.get("HOME") ?? "/tmp") + "/.cache/strata" });\n` +
      `await db.query("SELECT 1");\nconsole.log(performance.now() - t0);\nawait db.close();\n`,
  );
  return path;
}

async function timeReady(key: string, script: string, root: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "--no-check", "-A", `--config=${root}deno.json`, script, root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`${key}: ${new TextDecoder().decode(out.stderr)}`);
  const ms = Number(new TextDecoder().decode(out.stdout).trim());
  samples.set(key, [...(samples.get(key) ?? []), { ms, rssKb: 0 }]);
}

async function benchEmbedded(drift100: Corpus, round: number): Promise<void> {
  const ready = await writeReadyScript();
  const roots: Array<[string, string, string[]]> = [["strata", ROOT, STRATA]];
  if (COMPARE) roots.push(["compare", values.compare!.replace(/\/?$/, "/"), COMPARE]);
  const jobs = roots.flatMap(([label, root, cmd]) => [
    () => timeReady(`embedded|pglite:memory ready (in-process)|${label}`, ready, root),
    () =>
      measure(`embedded|verify migrations/|${label}`, [
        ...cmd,
        "--dir",
        `${ROOT}migrations`,
        "verify",
      ]),
  ]);
  const rotated = [...jobs.slice(round % jobs.length), ...jobs.slice(0, round % jobs.length)];
  for (const job of rotated) await job();
  const db = urlOf(await freshDb());
  await measure(`embedded|upgrade 100 (server, for drift)|strata`, [
    ...STRATA,
    "--dir",
    drift100.dir,
    "--database-url",
    db,
    "upgrade",
  ]);
  await measure(`embedded|drift of 100 migrations|strata`, [
    ...STRATA,
    "--dir",
    drift100.dir,
    "--database-url",
    db,
    "drift",
  ]);
}

// ---- report --------------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function cell(key: string): { text: string; ms?: number } {
  const s = samples.get(key);
  if (!s) return { text: "-" };
  const ms = median(s.map((x) => x.ms));
  const rss = median(s.map((x) => x.rssKb)) / 1024;
  return { text: `${fmtMs(ms)} (${rss.toFixed(0)} MiB)`, ms };
}

function table(): string {
  const tools = [
    "psql",
    "strata",
    ...(COMPARE ? ["compare"] : []),
    "dbmate",
    "strata pglite:memory",
  ];
  const rows = [...new Set([...samples.keys()].map((k) => k.split("|").slice(0, 2).join("|")))];
  const lines = [
    `| corpus | work | ${tools.join(" | ")} | strata / psql |`,
    `| --- | --- | ${tools.map(() => "---").join(" | ")} | --- |`,
  ];
  for (const row of rows) {
    const cells = tools.map((t) => cell(`${row}|${t}`));
    const ratio = cells[0].ms && cells[1].ms ? `${(cells[1].ms / cells[0].ms).toFixed(2)}x` : "-";
    // Rows of the embedded database's own work have no psql; their cells say it all.
    lines.push(
      `| ${row.replace("|", " | ")} | ${cells.map((c) => c.text).join(" | ")} | ${ratio} |`,
    );
  }
  return lines.join("\n");
}

try {
  const dbmate = await installDbmate();
  const floor = await writeFloorScript();
  const corpora = [
    await writeCorpus("tiny-1000", tiny(1000)),
    await writeCorpus("realistic-20", realistic()),
  ];
  const drift100 = await writeCorpus("realistic-100", realistic(100));
  if (!values.quick) corpora.push(await writeCorpus("insert-200k", bigInsert(200_000)));
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`round ${round + 1} of ${ROUNDS}`);
    for (const c of corpora) await benchCorpus(c, dbmate, round);
    await benchEmbedded(drift100, round);
    const floorDb = urlOf(await freshDb());
    await measure("start|--version|strata", [...STRATA, "--version"]);
    await measure("start|--version|dbmate", [dbmate, "--version"]);
    await measure("start|--version|psql", ["psql", "--version"]);
    await measure("start|floor: deno + postgres.js + SELECT 1|strata", [
      Deno.execPath(),
      "run",
      "-q",
      "--no-check",
      "-A",
      floor,
      floorDb,
    ]);
    await measure("start|current (0 applied)|strata", [
      ...STRATA,
      "--dir",
      corpora[0].dir,
      "--database-url",
      floorDb,
      "current",
    ]);
    await dropAll();
  }
  const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1] ??
    "unknown CPU";
  const [{ version }] = await admin`SELECT current_setting('server_version') AS version`;
  console.log(
    `Machine: ${Deno.build.target}, ${navigator.hardwareConcurrency} cores, ${cpu}; PostgreSQL ${version} on loopback;`,
  );
  console.log(
    `deno ${Deno.version.deno}; medians of ${ROUNDS} rounds, tools alternating; wall time (peak RSS).\n`,
  );
  console.log(table());
} finally {
  await dropAll();
  await admin.end();
  await Deno.remove(work, { recursive: true });
}
