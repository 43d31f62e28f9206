import assert from "node:assert/strict";
import { parseTarget, planDowngrade, planUpgrade } from "../lib/core/plan.ts";
import { currentVersion, findStateProblems } from "../lib/core/state.ts";
import { loadMigrations } from "../lib/core/files.ts";
import { StrataError } from "../lib/core/errors.ts";
import type { AppliedRow, Migration } from "../lib/core/types.ts";

const enc = new TextEncoder();
async function migrations(spec: string[]): Promise<readonly Migration[]> {
  const entries = spec.flatMap((s) => {
    const [name, hasDown] = s.endsWith("!") ? [s.slice(0, -1), false] : [s, true];
    const up = { name: `${name}.up.sql`, bytes: enc.encode(`SELECT '${name}';`) };
    return hasDown ? [up, { name: `${name}.down.sql`, bytes: enc.encode("SELECT 0;") }] : [up];
  });
  const r = await loadMigrations(entries);
  assert.deepEqual(r.problems, []);
  return r.migrations;
}

function rows(
  ms: readonly Migration[],
  versions: number[],
  patch: Partial<AppliedRow> = {},
): AppliedRow[] {
  return versions.map((v, i) => {
    const m = ms.find((x) => x.version === BigInt(v));
    return {
      version: BigInt(v),
      name: m?.name ?? "gone",
      checksum: m?.checksum ?? "t1:sha256:00",
      state: "applied",
      statementIndex: null,
      appliedOrder: i + 1,
      appliedAt: new Date(0),
      executionMs: 1,
      appliedBy: "me",
      strataVersion: "0",
      fileHash: null,
      ...patch,
    };
  });
}

function fails(fn: () => unknown, code: string, pattern?: RegExp): StrataError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StrataError, String(err));
    assert.equal(err.code, code);
    if (pattern) {
      assert.match(err.message + "\n" + (err.hint ?? "") + "\n" + err.details.join("\n"), pattern);
    }
    return err;
  }
  throw new Error(`expected ${code}`);
}

const versions = (p: { steps: readonly { migration: Migration }[] }) =>
  p.steps.map((s) => s.migration.versionText);

Deno.test("parseTarget() accepts each verb's forms and names the other verb's", () => {
  assert.deepEqual(parseTarget("head", "upgrade"), { kind: "head" });
  assert.deepEqual(parseTarget("+2", "upgrade"), { kind: "relative", steps: 2 });
  assert.deepEqual(parseTarget("-1", "downgrade"), { kind: "relative", steps: 1 });
  assert.deepEqual(parseTarget("base", "downgrade"), { kind: "base" });
  assert.deepEqual(parseTarget("0007", "upgrade"), { kind: "version", version: 7n, text: "0007" });
  fails(() => parseTarget("base", "upgrade"), "USAGE", /belongs to downgrade/);
  fails(() => parseTarget("+1", "downgrade"), "USAGE", /belongs to upgrade/);
  fails(() => parseTarget("latest", "upgrade"), "USAGE", /not a target/);
  fails(() => parseTarget("+0", "upgrade"), "USAGE");
});

Deno.test("planUpgrade() to head applies every pending migration in order", async () => {
  const ms = await migrations(["0001_a", "0002_b", "0003_c"]);
  const plan = planUpgrade(ms, rows(ms, [1]), { kind: "head" });
  assert.deepEqual(versions(plan), ["0002", "0003"]);
  assert.equal(plan.from, 1n);
  assert.equal(plan.to, 3n);
  assert.equal(planUpgrade(ms, rows(ms, [1, 2, 3]), { kind: "head" }).steps.length, 0);
});

Deno.test("planUpgrade() finds a version numerically and stops there", async () => {
  const ms = await migrations(["0001_a", "0002_b", "0007_c", "0010_d"]);
  const plan = planUpgrade(ms, [], parseTarget("7", "upgrade"));
  assert.deepEqual(versions(plan), ["0001", "0002", "0007"]);
});

Deno.test("planUpgrade() +N takes exactly N, and refuses more than pending", async () => {
  const ms = await migrations(["1_a", "2_b", "3_c"]);
  assert.deepEqual(versions(planUpgrade(ms, [], parseTarget("+1", "upgrade"))), ["1"]);
  fails(
    () => planUpgrade(ms, rows(ms, [1, 2]), parseTarget("+2", "upgrade")),
    "UNKNOWN_TARGET",
    /only 1 migration is pending/,
  );
});

Deno.test("planUpgrade() to a version below current names downgrade", async () => {
  const ms = await migrations(["1_a", "2_b", "3_c"]);
  fails(
    () => planUpgrade(ms, rows(ms, [1, 2, 3]), parseTarget("1", "upgrade")),
    "WRONG_DIRECTION",
    /strata downgrade 1/,
  );
});

Deno.test("planUpgrade() refuses an unknown version listing known ones", async () => {
  const ms = await migrations(["1_a", "2_b"]);
  fails(
    () => planUpgrade(ms, [], parseTarget("9", "upgrade")),
    "UNKNOWN_TARGET",
    /no such version[\s\S]*1, 2/,
  );
});

Deno.test("planUpgrade() refuses out-of-order pending versions unless allowed", async () => {
  const ms = await migrations(["1_a", "2_b", "3_c"]);
  const applied = rows(ms, [1, 3]);
  fails(
    () => planUpgrade(ms, applied, { kind: "head" }),
    "OUT_OF_ORDER",
    /"2_b.up.sql" is pending/,
  );
  assert.deepEqual(
    versions(planUpgrade(ms, applied, { kind: "head" }, { allowOutOfOrder: true })),
    ["2"],
  );
});

Deno.test("planUpgrade() refuses drift and missing files unless allowed, listing each", async () => {
  const ms = await migrations(["1_a", "2_b", "3_c"]);
  const applied = [
    ...rows(ms, [1], { checksum: "t1:sha256:ff" }),
    ...rows(ms, [2]),
    ...rows([], [5]),
  ];
  const err = fails(() => planUpgrade(ms, applied, { kind: "head" }), "DRIFT");
  assert.equal(err.details.length, 2);
  assert.match(err.details.join("\n"), /"1_a.up.sql" was edited/);
  assert.match(err.details.join("\n"), /version 5 \(gone\) is applied but its file is gone/);
  const p = planUpgrade(ms, applied, { kind: "head" }, { allowDrift: true, allowOutOfOrder: true });
  assert.deepEqual(versions(p), ["3"]);
});

Deno.test("planUpgrade() and planDowngrade() refuse an interrupted migration", async () => {
  const ms = await migrations(["1_a", "2_b"]);
  const applied = [...rows(ms, [1]), ...rows(ms, [2], { state: "started", statementIndex: 2 })];
  fails(
    () => planUpgrade(ms, applied, { kind: "head" }, { allowDrift: true }),
    "INTERRUPTED_MIGRATION",
    /statement 3/,
  );
  fails(
    () => planDowngrade(ms, applied, { kind: "base" }),
    "INTERRUPTED_MIGRATION",
    /strata stamp/,
  );
});

Deno.test("planDowngrade() -N, VERSION and base revert newest first", async () => {
  const ms = await migrations(["1_a", "2_b", "3_c"]);
  const applied = rows(ms, [1, 2, 3]);
  assert.deepEqual(versions(planDowngrade(ms, applied, parseTarget("-1", "downgrade"))), ["3"]);
  assert.deepEqual(versions(planDowngrade(ms, applied, parseTarget("1", "downgrade"))), ["3", "2"]);
  const all = planDowngrade(ms, applied, parseTarget("base", "downgrade"));
  assert.deepEqual(versions(all), ["3", "2", "1"]);
  assert.equal(all.to, null);
  assert.equal(planDowngrade(ms, applied, parseTarget("3", "downgrade")).steps.length, 0);
});

Deno.test("planDowngrade() to a version above current names upgrade", async () => {
  const ms = await migrations(["1_a", "2_b", "3_c"]);
  fails(
    () => planDowngrade(ms, rows(ms, [1]), parseTarget("3", "downgrade")),
    "WRONG_DIRECTION",
    /strata upgrade 3/,
  );
  fails(
    () => planDowngrade(ms, rows(ms, [1]), parseTarget("-2", "downgrade")),
    "UNKNOWN_TARGET",
    /only 1 migration is applied/,
  );
  fails(() => planDowngrade(ms, rows(ms, [1]), parseTarget("8", "downgrade")), "UNKNOWN_TARGET");
});

Deno.test("planDowngrade() refuses to cross an irreversible migration before anything runs", async () => {
  const ms = await migrations(["1_a", "2_b!", "3_c"]);
  const err = fails(
    () => planDowngrade(ms, rows(ms, [1, 2, 3]), { kind: "base" }),
    "IRREVERSIBLE",
    /"2_b.up.sql": it has no down file/,
  );
  assert.match(err.hint!, /Nothing was run/);
  assert.deepEqual(
    versions(planDowngrade(ms, rows(ms, [1, 2, 3]), parseTarget("2", "downgrade"))),
    ["3"],
  );
});

Deno.test("currentVersion() and findStateProblems() on an empty state", () => {
  assert.equal(currentVersion([]), null);
  assert.deepEqual(findStateProblems([], []), []);
});
