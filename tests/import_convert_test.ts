import assert from "node:assert/strict";
import { loadMigrations } from "../lib/core/files.ts";
import { planAdoption } from "../lib/core/import_adopt.ts";
import {
  convertAlembic,
  orderRevisions,
  parseAlembicIni,
  parseRevisionFile,
} from "../lib/core/import_alembic.ts";
import { checkConversion, type Conversion } from "../lib/core/import_common.ts";
import { convertDbmate } from "../lib/core/import_dbmate.ts";
import { convertFlyway, flywayKey, mapFlywayVersions } from "../lib/core/import_flyway.ts";
import { convertGolangMigrate } from "../lib/core/import_golang_migrate.ts";
import { convertGoose } from "../lib/core/import_goose.ts";
import { checkRepairVersions, planRepair } from "../lib/core/import_repair.ts";
import type { AppliedRow, Migration } from "../lib/core/types.ts";

const enc = new TextEncoder();
const entries = (files: Record<string, string>) =>
  Object.entries(files).map(([name, text]) => ({ name, bytes: enc.encode(text) }));
const byName = (conv: Conversion) => Object.fromEntries(conv.files.map((f) => [f.name, f.text]));

async function migrationsOf(files: Record<string, string>): Promise<Migration[]> {
  const { migrations, problems } = await loadMigrations(entries(files));
  assert.deepEqual(problems, []);
  return [...migrations];
}

Deno.test("convertDbmate() splits blocks and carries transaction:false", async () => {
  const conv = convertDbmate(entries({
    "20240101_a.sql": "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (x);\n" +
      "-- migrate:down transaction:false\nDROP INDEX CONCURRENTLY i;\n",
    "20240102_b.sql": "-- a comment\n-- migrate:up\nSELECT 1;\n-- migrate:down\n",
    "README.md": "docs",
  }));
  assert.deepEqual(conv.refusals, []);
  const files = byName(conv);
  assert.equal(
    files["20240101_a.up.sql"],
    '-- imported from dbmate "20240101_a.sql"\n-- transaction: false\n\n' +
      "CREATE INDEX CONCURRENTLY i ON t (x);\n",
  );
  assert.equal(files["20240102_b.down.sql"], '-- imported from dbmate "20240102_b.sql"\n\n');
  assert.match(conv.notes.join("\n"), /"README\.md" is not a dbmate migration/);
  assert.match(conv.notes.join("\n"), /"20240102_b\.sql" has an empty "-- migrate:down" block/);
  assert.equal((await checkConversion(conv)).migrations.length, 2);
});

Deno.test("convertDbmate() refuses files dbmate would refuse", () => {
  const conv = convertDbmate(entries({
    "1_no_down.sql": "-- migrate:up\nSELECT 1;\n",
    "2_sql_first.sql": "SELECT 0;\n-- migrate:up\nSELECT 1;\n-- migrate:down\n",
    "3_backwards.sql": "-- migrate:down\nSELECT 2;\n-- migrate:up\nSELECT 1;\n",
  }));
  assert.equal(conv.files.length, 0);
  assert.match(conv.refusals[0], /"1_no_down\.sql": expected one "-- migrate:down" line, found 0/);
  assert.match(conv.refusals[1], /"2_sql_first\.sql": SQL before "-- migrate:up"/);
  assert.match(conv.refusals[2], /"3_backwards\.sql": "-- migrate:down" comes before/);
});

Deno.test("convertGolangMigrate() copies files and marks own transaction control", () => {
  const conv = convertGolangMigrate(entries({
    "1_a.up.sql": "CREATE TABLE a (x int);\n",
    "1_a.down.sql": "DROP TABLE a;\n",
    "2_b.up.sql": "BEGIN;\nSELECT 1;\nCOMMIT;\nBEGIN;\nSELECT 2;\nCOMMIT;\n",
    "3_c.up.sql": "BEGIN;\nSELECT 3;\nCOMMIT;\n",
    "notes.txt": "x",
  }));
  const files = byName(conv);
  assert.equal(
    files["1_a.up.sql"],
    '-- imported from golang-migrate "1_a.up.sql"\n\nCREATE TABLE a (x int);\n',
  );
  assert.match(files["2_b.up.sql"], /^-- imported .*\n-- transaction: false\n\nBEGIN;/);
  assert.doesNotMatch(files["3_c.up.sql"], /transaction: false/, "a lone wrapper is strata's");
  assert.equal(conv.notes.length, 2);
});

Deno.test("convertGoose() handles sections, NO TRANSACTION, statement markers, refusals", () => {
  const conv = convertGoose(entries({
    "00001_a.sql":
      "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (x);\n" +
      "-- +goose Down\nDROP INDEX CONCURRENTLY i;\n",
    "00002_b.sql": "-- +GOOSE UP\n-- +goose StatementBegin\nSELECT 1;\n-- +goose StatementEnd\n",
    "00003_c.go": "package m",
    "00004_d.sql": "-- +goose Up\n-- +goose ENVSUB ON\nSELECT '${X}';\n",
    "00005_e.sql": "SELECT 1;\n",
  }));
  const files = byName(conv);
  assert.match(files["00001_a.up.sql"], /-- transaction: false\n\nCREATE INDEX CONCURRENTLY/);
  assert.match(files["00001_a.down.sql"], /-- transaction: false\n\nDROP INDEX CONCURRENTLY/);
  assert.equal(files["00002_b.up.sql"], '-- imported from goose "00002_b.sql"\n\nSELECT 1;\n');
  assert.match(files["00002_b.down.sql"], /goose had no Down section/);
  assert.deepEqual(conv.refusals.map((r) => r.slice(0, 40)), [
    'version 00003: "00003_c.go" is a Go migr',
    '"00004_d.sql": the annotation "-- +goose',
    '"00005_e.sql": no "-- +goose Up" annotat',
  ]);
});

Deno.test("mapFlywayVersions() keeps Flyway's order in single integers", () => {
  const versions = ["1", "1.1", "1.2", "1.10", "2", "2.0.1"];
  const mapped = mapFlywayVersions(versions);
  assert.deepEqual(versions.map((v) => mapped.get(flywayKey(v))), [
    "010000",
    "010100",
    "010200",
    "011000",
    "020000",
    "020001",
  ]);
  const numbers = versions.map((v) => BigInt(mapped.get(flywayKey(v))!));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => (a < b ? -1 : 1)));
  assert.equal(flywayKey("1_01.0"), "1.1");
  assert.deepEqual([...mapFlywayVersions(["7", "20"]).values()], ["0007", "0020"]);
});

Deno.test("convertFlyway() pairs V and U scripts, reads .conf, lists the rest", async () => {
  const conv = convertFlyway(entries({
    "V1__create.sql": "CREATE TABLE o (x int);\n",
    "V1.1__idx.sql": "CREATE INDEX CONCURRENTLY i ON o (x);\n",
    "V1.1__idx.sql.conf": "executeInTransaction=false\nencoding=UTF-8\n",
    "U1__create.sql": "DROP TABLE o;\n",
    "R__view.sql": "CREATE VIEW v AS SELECT 1;\n",
    "V2__seed.sql": "INSERT INTO o VALUES (${n});\n",
    "U3__gone.sql": "SELECT 1;\n",
  }));
  const files = byName(conv);
  assert.match(files["10_create.up.sql"], /-- flyway-version: 1\n/);
  assert.match(files["10_create.down.sql"], /DROP TABLE o;/);
  assert.match(files["11_idx.up.sql"], /-- flyway-version: 1\.1\n-- transaction: false\n/);
  const notes = conv.notes.join("\n");
  assert.match(notes, /"R__view\.sql" is a repeatable migration/);
  assert.match(notes, /"V1\.1__idx\.sql\.conf": "encoding=UTF-8" not carried over/);
  assert.match(notes, /"V2__seed\.sql" uses a \$\{placeholder\}/);
  assert.deepEqual(conv.refusals, ['"U3__gone.sql" undoes version 3, which has no V script']);
  // The undo script is refused, and the down file it would be has no up file.
  await assert.rejects(checkConversion(conv), /Cannot import from flyway: 2 problems/);
});

Deno.test("convertFlyway() refuses an undecodable script once, not its undo script too", () => {
  const conv = convertFlyway([
    { name: "V1__a.sql", bytes: new Uint8Array([0x53, 0xff, 0x3b]) },
    ...entries({ "U1__a.sql": "SELECT 1;\n", "notes.txt": "x" }),
  ]);
  assert.equal(conv.refusals.length, 1);
  assert.match(conv.refusals[0], /V1__a\.sql/);
  assert.doesNotMatch(conv.refusals[0], /undoes/);
  assert.deepEqual(conv.notes, [
    '"notes.txt" is not a versioned Flyway migration: not carried over',
  ]);
});

Deno.test("checkConversion() refuses versions Flyway counts equal (1 and 1.0)", async () => {
  const conv = convertFlyway(entries({ "V1__a.sql": "SELECT 1;", "V1.0__b.sql": "SELECT 2;" }));
  await assert.rejects(checkConversion(conv), (err: Error) => {
    assert.match(String((err as { details?: string[] }).details), /two up files/);
    return true;
  });
});

const rev = (revision: string, down: string | null) => ({
  revision,
  downRevision: down,
  message: `m ${revision}`,
  fileName: `${revision}_x.py`,
});

Deno.test("orderRevisions() walks a line and names branches, merges and bases", () => {
  assert.deepEqual(
    orderRevisions([rev("c", "b"), rev("a", null), rev("b", "a")]).ordered.map((r) => r.revision),
    ["a", "b", "c"],
  );
  assert.deepEqual(orderRevisions([rev("a", null), rev("b", "a"), rev("c", "a")]).refusals, [
    "the history branches at revision a into b and c",
  ]);
  assert.deepEqual(orderRevisions([rev("a", null), rev("b", null)]).refusals, [
    "the history has 2 bases: a and b",
  ]);
  assert.match(orderRevisions([rev("b", "zz")]).refusals.join(), /follows zz, which no file/);
  const refusals: string[] = [];
  const merge = parseRevisionFile(
    { name: "m.py", bytes: enc.encode('revision = "m"\ndown_revision = ("a", "b")\n') },
    refusals,
  );
  assert.equal(merge, null);
  assert.deepEqual(refusals, ['revision m ("m.py") merges a and b: the history is not a line']);
});

Deno.test("parseRevisionFile() reads plain and annotated assignments and the docstring", () => {
  const r = parseRevisionFile({
    name: "ab12_add_x.py",
    bytes: enc.encode(
      '"""add x\n\nRevision ID: ab12\n"""\nrevision: str = "ab12"\n' +
        'down_revision: Union[str, None] = "9f"\n',
    ),
  }, []);
  assert.deepEqual(r, {
    revision: "ab12",
    downRevision: "9f",
    message: "add x",
    fileName: "ab12_add_x.py",
  });
  assert.deepEqual(parseAlembicIni("[alembic]\nscript_location = %(here)s/db\n"), {
    scriptLocation: "./db",
    versionLocations: ["./db/versions"],
  });
});

Deno.test("convertAlembic() drops bookkeeping and the wrapper, keeps the revision id", () => {
  const conv = convertAlembic(
    [rev("a1", null)],
    new Map([["a1", {
      up: "BEGIN;\n\nCREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);\n\n" +
        "-- Running upgrade  -> a1\n\nCREATE TABLE t (x int);\n\n" +
        "INSERT INTO alembic_version (version_num) VALUES ('a1');\n\nCOMMIT;\n",
      down: "BEGIN;\n\nDROP TABLE t;\n\nDELETE FROM alembic_version WHERE version_num = 'a1';\n\n" +
        "DROP TABLE alembic_version;\n\nCOMMIT;\n\nBEGIN;\n\nCOMMIT;\n",
    }]]),
  );
  const files = byName(conv);
  assert.equal(
    files["0001_x.up.sql"],
    '-- imported from Alembic revision a1 ("a1_x.py")\n-- message: m a1\n' +
      "-- alembic-revision: a1\n\n-- Running upgrade  -> a1\n\nCREATE TABLE t (x int);\n",
  );
  assert.match(files["0001_x.down.sql"], /-- transaction: false\n\nBEGIN;\n\nDROP TABLE t;/);
});

Deno.test("convertAlembic() drops only statements on the version table, qualified or not", () => {
  const conv = convertAlembic(
    [rev("a1", null)],
    new Map([["a1", {
      up: "BEGIN;\n\nCREATE TABLE meta.alembic_version (version_num VARCHAR(32) NOT NULL);\n\n" +
        "CREATE TABLE foo (alembic_version int);\n\n" +
        "INSERT INTO alembic_version_log (alembic_version) VALUES ('a1');\n\n" +
        "UPDATE meta.\"alembic_version\" SET version_num='a1' " +
        "WHERE alembic_version.version_num = 'a0';\n\n" +
        "INSERT INTO meta.alembic_version (version_num) VALUES ('a1');\n\nCOMMIT;\n",
      down: "BEGIN;\n\nDROP TABLE foo;\n\nDELETE FROM meta.alembic_version " +
        "WHERE alembic_version.version_num = 'a1';\n\nDROP TABLE meta.alembic_version;\n\n" +
        "COMMIT;\n",
    }]]),
    { versionTable: "meta.alembic_version" },
  );
  const files = byName(conv);
  assert.equal(
    files["0001_x.up.sql"],
    '-- imported from Alembic revision a1 ("a1_x.py")\n-- message: m a1\n' +
      "-- alembic-revision: a1\n\nCREATE TABLE foo (alembic_version int);\n\n" +
      "INSERT INTO alembic_version_log (alembic_version) VALUES ('a1');\n",
  );
  assert.equal(
    files["0001_x.down.sql"],
    '-- imported from Alembic revision a1 ("a1_x.py")\n-- message: revert m a1\n' +
      "-- alembic-revision: a1\n\nDROP TABLE foo;\n",
  );
  assert.deepEqual(conv.notes, []);
});

function applied(version: bigint, checksum: string, state: AppliedRow["state"] = "applied") {
  return {
    version,
    name: "x",
    checksum,
    state,
    statementIndex: null,
    appliedOrder: 1,
    appliedAt: new Date(0),
    executionMs: null,
    appliedBy: "",
    strataVersion: "",
    fileHash: null,
  };
}

Deno.test("planAdoption() maps each tool's rows and refuses gaps and unknown versions", async () => {
  const ms = await migrationsOf({
    "1_a.up.sql": "SELECT 1;",
    "2_b.up.sql": "SELECT 2;",
    "3_c.up.sql": "SELECT 3;",
  });
  const states = (p: ReturnType<typeof planAdoption>) =>
    p.rows.map((r) => `${r.migration.version} ${r.state}`);
  assert.deepEqual(
    states(planAdoption("golang-migrate", ms, [{ version: "2", dirty: true }], "t")),
    [
      "1 applied",
      "2 started",
    ],
  );
  assert.deepEqual(
    states(planAdoption("goose", ms, [
      { id: "1", version_id: "0", is_applied: true },
      { id: "2", version_id: "1", is_applied: true },
      { id: "4", version_id: "2", is_applied: false },
      { id: "3", version_id: "2", is_applied: true },
    ], "t")),
    ["1 applied"],
  );
  const gap = planAdoption(
    "dbmate",
    ms,
    [{ version: "1" }, { version: "3" }, { version: "9" }],
    "t",
  );
  assert.deepEqual(gap.refusals, [
    "applied in t but no file in the migrations directory: 9",
    'never applied by dbmate, below its current version: "2_b.up.sql"',
  ]);
  assert.deepEqual(gap.rows, []);
  assert.match(
    planAdoption("alembic", ms, [{ version_num: "a" }, { version_num: "b" }], "t").refusals[0],
    /2 heads \(a, b\)/,
  );
});

Deno.test("planAdoption() replays Flyway's history: baseline, failure, undo", async () => {
  const ms = await migrationsOf({
    "10_a.up.sql": "-- flyway-version: 1\nSELECT 1;",
    "11_b.up.sql": "-- flyway-version: 1.1\nSELECT 2;",
    "20_c.up.sql": "-- flyway-version: 2\nSELECT 3;",
  });
  const row = (rank: number, version: string | null, type: string, success = true) => ({
    installed_rank: String(rank),
    version,
    type,
    script: `s${rank}`,
    success,
  });
  const plan = planAdoption("flyway", ms, [
    row(0, null, "SCHEMA"),
    row(1, "1.1", "BASELINE"),
    row(2, "2", "SQL"),
    row(3, "2", "UNDO_SQL"),
    row(4, "2", "SQL", false),
    row(5, null, "SQL"),
  ], "t");
  assert.deepEqual(plan.refusals, []);
  assert.deepEqual(plan.rows.map((r) => `${r.migration.version} ${r.state}`), [
    "10 applied",
    "11 applied",
    "20 started",
  ]);
  assert.deepEqual(plan.notes, ["s5: a repeatable migration, not adopted"]);
});

Deno.test("planRepair() touches only named, applied, finished versions", async () => {
  const ms = await migrationsOf({ "1_a.up.sql": "SELECT 1;", "2_b.up.sql": "SELECT 2;" });
  const rows = [applied(1n, "t2:sha256:old"), applied(2n, ms[1].checksum)];
  const plan = planRepair(ms, rows, { versions: ["2", "0001"], edited: new Set([1n]) });
  assert.deepEqual(plan.changes.map((c) => [c.migration.versionText, c.before]), [
    ["1", "t2:sha256:old"],
  ]);
  assert.deepEqual(plan.unchanged.map((m) => m.versionText), ["2"]);
  assert.throws(() => checkRepairVersions([]), /no versions given/);
  assert.throws(() => checkRepairVersions(["head"]), /"head": not a version/);
  assert.throws(() => planRepair(ms, rows, { versions: ["9"], edited: new Set() }), /no such/);
  assert.throws(
    () => planRepair(ms, [rows[0]], { versions: ["2"], edited: new Set() }),
    /not applied/,
  );
  assert.throws(
    () => planRepair(ms, [applied(1n, "x", "started")], { versions: ["1"], edited: new Set() }),
    /interrupted/,
  );
});
