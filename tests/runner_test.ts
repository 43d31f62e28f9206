import assert from "node:assert/strict";
import { loadMigrations } from "../lib/core/files.ts";
import { planUpgrade } from "../lib/core/plan.ts";
import { type RunEvent, runPlan } from "../lib/db/runner.ts";
import { ensureTables, readState } from "../lib/db/store.ts";
import type { StrataError } from "../lib/core/errors.ts";
import { serverTest, withDb } from "./_helpers.ts";

const table = { schema: "public", name: "strata_migrations" };

serverTest(
  "runPlan() applies steps with events and records rows readState() returns",
  async (t) => {
    const enc = new TextEncoder();
    const { migrations } = await loadMigrations([
      { name: "1_a.up.sql", bytes: enc.encode("-- lock-timeout: 2s\nCREATE TABLE a (id int)") },
      { name: "2_b.up.sql", bytes: enc.encode("CREATE TABLE b (id int); -- trailing comment") },
    ]);
    await withDb(t.url, async (db) => {
      await ensureTables(db, { table, strataVersion: "test" });
      const events: RunEvent[] = [];
      const plan = planUpgrade(migrations, [], { kind: "head" });
      await runPlan(db, plan, {
        table,
        strataVersion: "test",
        dir: "m",
        lockRetries: 3,
        onEvent: (e) => events.push(e),
      });
      assert.deepEqual(events.map((e) => `${e.type} ${e.step.migration.versionText}`), [
        "start 1",
        "done 1",
        "start 2",
        "done 2",
      ]);
      const { rows } = await readState(db, table);
      assert.deepEqual(
        rows.map((r) => [r.version, r.state, r.checksum, r.appliedBy, r.strataVersion]),
        [
          [1n, "applied", migrations[0].checksum, "postgres", "test"],
          [2n, "applied", migrations[1].checksum, "postgres", "test"],
        ],
      );
      assert.ok(rows[0].appliedOrder < rows[1].appliedOrder);
    });
  },
);

serverTest(
  "runPlan() stopped between the files of a single transaction rolls it back before it says so",
  async (t) => {
    const enc = new TextEncoder();
    const { migrations } = await loadMigrations([
      { name: "1_a.up.sql", bytes: enc.encode("CREATE TABLE a (id int);") },
      { name: "2_b.up.sql", bytes: enc.encode("CREATE TABLE b (id int);") },
    ]);
    await withDb(t.url, async (db) => {
      await ensureTables(db, { table, strataVersion: "test" });
      let asked = 0;
      const plan = planUpgrade(migrations, [], { kind: "head" });
      const run = runPlan(db, plan, {
        table,
        strataVersion: "test",
        dir: "m",
        lockRetries: 0,
        singleTransaction: true,
        // No signal before the first file, SIGINT before the second.
        stopSignal: () => (asked++ === 0 ? null : "SIGINT"),
      });
      await assert.rejects(run, (err: StrataError) => {
        assert.equal(err.code, "INTERRUPTED_BY_SIGINT");
        assert.equal(err.partial?.singleTransaction, true);
        return true;
      });
      // The session the caller keeps is out of the transaction, and nothing of the batch stays.
      assert.equal(await db.transactionStatus(), "idle");
      const [a] = await db.query<{ gone: boolean }>("SELECT to_regclass('a') IS NULL AS gone");
      assert.ok(a.gone);
      assert.deepEqual((await readState(db, table)).rows, []);
    });
  },
);
