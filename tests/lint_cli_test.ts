/**
 * `strata lint` and `strata upgrade --lint` as users run them: stdout,
 * stderr and exit code, on the fixtures, on migrations/, against the test
 * server; and the proof that a plain `upgrade` never loads the parser.
 */

import assert from "node:assert/strict";
import postgres from "postgres";
import { lockKey } from "../lib/db/session.ts";
import { runCli, serverTest, tempMigrations } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const UNSAFE = `${ROOT}tests/fixtures/lint/unsafe`;
const SAFE = `${ROOT}tests/fixtures/lint/safe`;

/** Every rule the unsafe fixture fires, by file. */
const UNSAFE_RULES: Record<string, string[]> = {
  "0002_index.up.sql": ["index-not-concurrent"],
  "0003_drop_index.up.sql": ["drop-index-not-concurrent"],
  "0004_concurrently.up.sql": ["concurrently-in-transaction"],
  "0005_foreign_key.up.sql": ["foreign-key-validated"],
  "0006_check.up.sql": ["check-validated"],
  "0007_not_null.up.sql": ["set-not-null"],
  "0008_default.up.sql": ["volatile-default"],
  "0009_type.up.sql": ["column-type-rewrite"],
  "0010_primary_key.up.sql": ["unique-constraint"],
  "0011_required.up.sql": ["required-column"],
  "0012_no_timeout.up.sql": ["no-lock-timeout"],
  "0013_rename.up.sql": ["rename"],
  "0014_drop.up.sql": ["drop-column-or-table"],
  "0015_vacuum.up.sql": ["rewrite-maintenance"],
  "0016_newer_syntax.up.sql": ["syntax-error"],
};

interface JsonFile {
  file: string;
  findings: Array<{ rule: string; observed: boolean | null; suppressed: string | null }>;
}

function rulesByFile(stdout: string): Record<string, string[]> {
  const doc = JSON.parse(stdout) as { files: JsonFile[] };
  return Object.fromEntries(
    doc.files.filter((f) => f.findings.length > 0).map((
      f,
    ) => [f.file, f.findings.map((x) => x.rule)]),
  );
}

Deno.test("strata lint --all on the unsafe fixture fires each rule in its file and exits 6", async () => {
  const r = await runCli(["lint", "--all", "--json", "--dir", UNSAFE]);
  assert.equal(r.code, 6, r.stderr);
  assert.deepEqual(rulesByFile(r.stdout), UNSAFE_RULES);
  const error = JSON.parse(r.stderr);
  assert.equal(error.code, "LINT_FAILED");
  assert.equal(error.exit, 6);
});

Deno.test("strata lint --format github writes workflow annotations", async () => {
  // Relative to the working directory (the repository), as the workflow's paths are.
  const r = await runCli([
    "lint",
    "--all",
    "--format",
    "github",
    "--dir",
    "tests/fixtures/lint/unsafe",
  ]);
  assert.equal(r.code, 6);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.filter((l) => l.startsWith("::error file=")).length, 11);
  assert.equal(lines.filter((l) => l.startsWith("::warning file=")).length, 4);
  assert.match(
    lines[0],
    /^::error file=tests\/fixtures\/lint\/unsafe\/0002_index\.up\.sql,line=1,col=1,title=strata lint%3A index-not-concurrent::CREATE INDEX "t_b" on "t"/,
  );
  assert.match(lines.at(-1)!, /^lint: 16 files \(all\), 11 errors, 4 warnings, 0 suppressed;/);
  assert.match(r.stderr, /^error\[LINT_FAILED\]: Cannot pass lint: 11 errors in 16 files$/m);
});

Deno.test("strata lint --all --strict --trace passes the safe fixture: PostgreSQL shows nothing unexpected", async () => {
  const r = await runCli(["lint", "--all", "--strict", "--trace", "--json", "--dir", SAFE]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.trace.error, null);
  assert.match(doc.trace.scratch, /^pglite:memory/);
  assert.deepEqual(rulesByFile(r.stdout), { "0014_rename.up.sql": ["rename"] });
  assert.equal(doc.summary.suppressed, 1);
  assert.equal(doc.files.length, 15);
  assert.ok(doc.files.every((f: { trace: unknown }) => f.trace !== null));
  const notNull = doc.files.find((f: JsonFile) => f.file === "0008_not_null.up.sql");
  assert.deepEqual(notNull.trace.statements[0].scanned, [], "a validated CHECK spares the scan");
});

Deno.test("strata lint --all runs on migrations/", async () => {
  const ups = [...Deno.readDirSync(`${ROOT}migrations`)].filter((e) => e.name.endsWith(".up.sql"));
  const r = await runCli(["lint", "--all", "--json", "--dir", `${ROOT}migrations`]);
  assert.ok(r.code === 0 || r.code === 6, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.summary.files, ups.length);
  assert.equal(doc.summary.failed, r.code === 6);
});

Deno.test("strata lint without a database or --all says how to choose the files (exit 2)", async () => {
  const r = await runCli(["lint", "--dir", SAFE]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^error\[NO_DATABASE\]: Cannot lint the pending migrations: no database is configured$/m,
  );
  assert.match(r.stderr, /--all/);
});

Deno.test("strata lint refuses bad options before reading anything (exit 2)", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["--all", "0002"], /--all and named files exclude each other/],
    [["--all", "--format", "xml"], /--format "xml": no such format/],
    [["--all", "--pg-version", "fifteen"], /--pg-version "fifteen": not a major version/],
    [["--all", "--scratch-url", "pglite:memory"], /--scratch-url without --trace/],
    [["0099"], /Cannot lint "0099": no such migration/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(["lint", "--dir", SAFE, ...args]);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.stderr, message);
  }
});

Deno.test("strata lint VERSION... lints the named files as one run", async () => {
  const r = await runCli(["lint", "--json", "--pg-version", "11", "--dir", UNSAFE, "0007", "0012"]);
  assert.equal(r.code, 6);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.scope, "explicit");
  assert.deepEqual(doc.pgVersion, { major: 11, source: "option" });
  assert.deepEqual(rulesByFile(r.stdout), {
    "0007_not_null.up.sql": ["set-not-null"],
    "0012_no_timeout.up.sql": ["no-lock-timeout"],
  });
  assert.match(doc.files[0].findings[0].safe ?? "", /PostgreSQL 11 always scans/);
});

Deno.test("strata lint refuses an unknown rule in lint-ignore (exit 2, file and line)", async () => {
  const dir = await tempMigrations({
    "0001_a.up.sql": "-- lint-ignore: no-lock-timeuot -- fine\nCREATE TABLE t (id int);",
  });
  try {
    const r = await runCli(["lint", "--all", "--dir", dir]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error\[HEADER_BAD_VALUE\]: Cannot read header of "0001_a\.up\.sql" line 1: lint-ignore names unknown rule "no-lock-timeuot"$/m,
    );
    assert.match(r.stderr, /Did you mean "no-lock-timeout"\?/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const RUN_FILES = {
  "0001_create.up.sql": "CREATE TABLE t (id int PRIMARY KEY, b int);",
  "0002_more.up.sql":
    "-- lock-timeout: 1s\nCREATE TABLE n (id int);\nALTER TABLE t ADD COLUMN note text;",
  "0003_index.up.sql": "CREATE INDEX n_id ON n (id);\nCREATE INDEX t_b ON t (b);",
};

serverTest(
  "strata lint with a database lints the pending files as one run, with the server's version",
  async (t) => {
    const dir = await tempMigrations(RUN_FILES);
    try {
      const env = { DATABASE_URL: t.url };
      assert.equal((await runCli(["upgrade", "0001", "--dir", dir], { env })).code, 0);
      const r = await runCli(["lint", "--json", "--dir", dir], { env });
      assert.equal(r.code, 6, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.equal(doc.scope, "pending");
      assert.equal(doc.pgVersion.source, "server");
      assert.ok(doc.pgVersion.major >= 12);
      assert.deepEqual(doc.files.map((f: JsonFile) => f.file), [
        "0002_more.up.sql",
        "0003_index.up.sql",
      ]);
      assert.deepEqual(rulesByFile(r.stdout), { "0003_index.up.sql": ["index-not-concurrent"] });
      assert.match(r.stdout, /"relations":\["t"\]/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "strata upgrade --lint refuses an error finding before taking any lock (exit 6)",
  async (t) => {
    const dir = await tempMigrations(RUN_FILES);
    // One connection of its own holds the migration lock for the whole test.
    const held = postgres(t.url, { max: 1, onnotice: () => {}, fetch_types: false });
    try {
      const env = { DATABASE_URL: t.url };
      assert.equal((await runCli(["upgrade", "0001", "--dir", dir], { env })).code, 0);
      const key = await lockKey({ schema: "public", name: "strata_migrations" });
      await held`SELECT pg_advisory_lock(${String(key)}::int8)`;
      const started = Date.now();
      const r = await runCli(["upgrade", "--lint", "--lock-wait", "60s", "--dir", dir], { env });
      assert.equal(r.code, 6, r.stderr);
      assert.ok(Date.now() - started < 30_000, "it did not wait for the lock");
      assert.doesNotMatch(r.stderr, /Waiting/);
      assert.match(
        r.stderr,
        /^error\[LINT_FAILED\]: Cannot upgrade: lint found 1 error in the pending migrations; nothing was run and no lock was taken$/m,
      );
      assert.match(r.stderr, /0003_index\.up\.sql:2:1: error\[index-not-concurrent\]/);
      const rows = await t.sql`SELECT version FROM strata_migrations ORDER BY version`;
      assert.deepEqual(rows.map((x) => x.version), ["1"]);
      const [{ n }] = await t.sql`SELECT count(*)::int AS n FROM pg_class WHERE relname = 'n'`;
      assert.equal(n, 0);
    } finally {
      await held.end({ timeout: 1 });
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "strata upgrade --lint applies when only warnings fire, printing them on stderr",
  async (t) => {
    const dir = await tempMigrations({
      "0001_create.up.sql": "CREATE TABLE t (id int PRIMARY KEY, b int);",
      "0002_note.up.sql": "ALTER TABLE t ADD COLUMN note text;",
    });
    try {
      const env = { DATABASE_URL: t.url };
      assert.equal((await runCli(["upgrade", "0001", "--dir", dir], { env })).code, 0);
      const r = await runCli(["upgrade", "--lint", "--dir", dir], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /warning\[no-lock-timeout\]/);
      assert.match(r.stdout, /Applied 1 migration/);
      // A dry run lints what its script would apply, against the server's own version.
      await Deno.writeTextFile(`${dir}/0003_more.up.sql`, "ALTER TABLE t ADD COLUMN more text;");
      const dry = await runCli(["upgrade", "--lint", "--dry-run", "--dir", dir], { env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(dry.stderr, /warning\[no-lock-timeout\]/);
      assert.match(dry.stderr, /PostgreSQL 1\d \(from the server\)/);
      assert.match(dry.stdout, /-- 0003_more\.up\.sql/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "strata lint --trace --scratch-url traces on a server scratch database and drops it",
  async (t) => {
    const dir = await tempMigrations({
      "0001_create.up.sql": "CREATE TABLE t (id int PRIMARY KEY, b int);",
      "0002_index.up.sql": "CREATE INDEX t_b ON t (b);",
    });
    try {
      const r = await runCli([
        "lint",
        "--all",
        "--trace",
        "--scratch-url",
        t.url,
        "--json",
        "--dir",
        dir,
      ]);
      assert.equal(r.code, 6, r.stderr);
      const doc = JSON.parse(r.stdout);
      assert.match(doc.trace.scratch, /scratch database strata_scratch_/);
      const finding = doc.files[1].findings[0];
      assert.deepEqual([finding.rule, finding.observed], ["index-not-concurrent", true]);
      const left = await t
        .sql`SELECT datname FROM pg_database WHERE datname LIKE 'strata_scratch_%'`;
      assert.deepEqual(left.filter((x) => doc.trace.scratch.includes(x.datname)), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

interface InfoModule {
  specifier: string;
  dependencies?: Array<{ code?: { specifier: string }; isDynamic?: boolean }>;
}

Deno.test("upgrade's module graph does not include libpg-query, the linter or a node: module", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", `${ROOT}main.ts`],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: InfoModule[];
    redirects: Record<string, string>;
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const resolve = (s: string) => info.redirects[s] ?? s;
  const closure = (roots: string[], dynamic: boolean) => {
    const seen = new Set<string>();
    const stack = roots.map(resolve);
    while (stack.length) {
      const s = stack.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      for (const d of bySpecifier.get(s)?.dependencies ?? []) {
        if (d.code && (dynamic || !d.isDynamic)) stack.push(resolve(d.code.specifier));
      }
    }
    return [...seen];
  };
  const isParser = (s: string) => /libpg-query/.test(s);
  const isLinter = (s: string) => /\/lib\/lint\/|\/lib\/commands\/lint\.ts$/.test(s);
  // What a plain upgrade loads: main.ts and the upgrade command, with their static imports.
  const upgrade = closure(
    [`file://${ROOT}main.ts`, `file://${ROOT}lib/commands/migrate.ts`],
    false,
  );
  assert.ok(upgrade.some((s) => s.endsWith("/lib/commands/migrate.ts")));
  assert.deepEqual(upgrade.filter((s) => isParser(s) || isLinter(s)), []);
  // Nor any node: module (loading node:util alone cost every run ~10 ms), with the wire driver.
  const start = closure([...upgrade, `file://${ROOT}lib/db/wire.ts`], false);
  assert.ok(start.some((s) => s.endsWith("/lib/db/wire.ts")));
  assert.deepEqual(start.filter((s) => s.startsWith("node:")), []);
  // The parser is in the program, reached only through dynamic imports.
  assert.ok(closure([`file://${ROOT}main.ts`], true).some(isParser), "libpg-query is in the graph");
  const importers = info.modules.filter((m) =>
    (m.dependencies ?? []).some((d) => d.code && isParser(resolve(d.code.specifier)))
  );
  assert.deepEqual(importers.map((m) => m.specifier.replace(`file://${ROOT}`, "")), [
    "lib/lint/parse.ts",
  ]);
  const edge = importers[0].dependencies!.find((d) =>
    d.code && isParser(resolve(d.code.specifier))
  );
  assert.equal(edge?.isDynamic, true);
});
