import assert from "node:assert/strict";
import { checksumMatches, checksumOf, findEdited } from "../lib/core/checksum.ts";
import { loadMigrations, parseMigrationFile } from "../lib/core/files.ts";
import type { AppliedRow, Migration } from "../lib/core/types.ts";

const enc = new TextEncoder();
const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const FIXTURE = new URL("./fixtures/format1/strata_tables.sql", import.meta.url).pathname;

async function loadExamples(): Promise<readonly Migration[]> {
  const entries = [...Deno.readDirSync(EXAMPLES)].map((e) => ({
    name: e.name,
    bytes: Deno.readFileSync(`${EXAMPLES}${e.name}`),
  }));
  const { migrations, problems } = await loadMigrations(entries);
  assert.deepEqual(problems, []);
  return migrations;
}

function file(text: string) {
  return parseMigrationFile({ name: "1_x.up.sql", bytes: enc.encode(text) }, "up");
}

Deno.test("checksumOf() t1 still gives what strata 0.1.0 recorded for migrations/", async () => {
  // The fixture holds the rows strata 0.1.0 wrote for this directory.
  const recorded = [
    ...Deno.readTextFileSync(FIXTURE).matchAll(
      /INSERT INTO public\.strata_migrations VALUES \((\d+), '[^']*', '(t1:sha256:[0-9a-f]{64})'/g,
    ),
  ].map((m) => [BigInt(m[1]), m[2]] as const);
  assert.equal(recorded.length, 5);
  const migrations = await loadExamples();
  for (const [version, checksum] of recorded) {
    const m = migrations.find((x) => x.version === version)!;
    assert.equal(await checksumOf(m.up, "t1"), checksum, `t1 of ${m.up.fileName}`);
    assert.ok(await checksumMatches(m, checksum), `a t1 row of ${m.up.fileName} still matches`);
    assert.match(m.checksum, /^t2:sha256:[0-9a-f]{64}$/);
  }
});

Deno.test("checksumOf() t2 hashes only the execution-relevant keys that are set", async () => {
  const sql = "CREATE TABLE t (a int);\n";
  const plain = await checksumOf(file(sql));
  for (
    const key of [
      "message: x",
      "author: ada",
      "created: 2026-01-01",
      "alembic-revision: ab12",
      "flyway-version: 1.1",
    ]
  ) {
    assert.equal(await checksumOf(file(`-- ${key}\n${sql}`)), plain, key);
  }
  assert.equal(
    await checksumOf(file(`-- lint-ignore: rename -- the column is unused\n${sql}`)),
    plain,
    "lint-ignore does not change execution",
  );
  const changed = [
    "transaction: true",
    "lock-timeout: 5s",
    "statement-timeout: 1min",
    "env: APP_ROLE",
    "baseline: true",
  ];
  const seen = new Set([plain]);
  for (const key of changed) {
    const sum = await checksumOf(file(`-- ${key}\n${sql}`));
    assert.ok(!seen.has(sum), `${key} changes the checksum`);
    seen.add(sum);
  }
});

Deno.test("checksumMatches() dispatches on the tag; unknown tags never match", async () => {
  const [m] = (await loadMigrations([{ name: "1_x.up.sql", bytes: enc.encode("SELECT 1;") }]))
    .migrations;
  assert.ok(await checksumMatches(m, m.checksum));
  assert.ok(await checksumMatches(m, await checksumOf(m.up, "t1")));
  assert.ok(!(await checksumMatches(m, "t1:sha256:00")));
  assert.ok(!(await checksumMatches(m, "t9:sha256:" + m.checksum.slice(10))));
});

Deno.test("findEdited() names edited applied files and skips rows without a file", async () => {
  const { migrations } = await loadMigrations([
    { name: "1_a.up.sql", bytes: enc.encode("SELECT 1;") },
    { name: "2_b.up.sql", bytes: enc.encode("SELECT 2;") },
  ]);
  const row = (version: bigint, checksum: string): AppliedRow => ({
    version,
    name: "x",
    checksum,
    state: "applied",
    statementIndex: null,
    appliedOrder: 1,
    appliedAt: new Date(0),
    executionMs: null,
    appliedBy: "me",
    strataVersion: "0",
    fileHash: null,
  });
  const edited = await findEdited(migrations, [
    row(1n, await checksumOf(migrations[0].up, "t1")),
    row(2n, "t2:sha256:00"),
    row(3n, "t2:sha256:00"),
  ]);
  assert.deepEqual([...edited], [2n]);
});
