import assert from "node:assert/strict";
import { runCli } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("every core command works on pglite:DIR, keeping state across runs", async () => {
  const data = await Deno.makeTempDir({ prefix: "strata_test_pglite_" });
  const env = { DATABASE_URL: `pglite:${data}/db` };
  const cli = async (...args: string[]) => {
    const r = await runCli(["--dir", EXAMPLES, ...args], { env });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    assert.match(await cli("upgrade", "3"), /Applied 3 migrations .*base -> 0003/);
    assert.equal(await cli("current"), "0003  audit log with trigger\n");
    assert.match(await cli("history"), /3 applied, 2 pending/);
    assert.match(await cli("downgrade", "-1"), /Reverted 1 migration .*0003 -> 0002/);
    assert.match(await cli("upgrade"), /Applied 3 migrations .*0002 -> 0005/);
    assert.match(await cli("status"), /pending: {2}0/);
    assert.match(
      await cli("stamp", "0004"),
      /- {2}0005 {2}archive projects {2}\(row removed; no SQL run\)/,
    );
    assert.match(await cli("log", "--limit", "1"), /stamp 0005/);
    assert.match(await cli("validate"), /database checked/);
    assert.match(await cli("show", "5"), /applied: {3}not applied/);
    assert.match(await cli("upgrade", "--dry-run"), /-- 0005_archive_projects.up.sql/);
    const drift = await runCli(["--dir", EXAMPLES, "upgrade"], { env });
    assert.equal(
      drift.code,
      1,
      "0005's columns already exist after the stamp, so applying it fails",
    );
    assert.match(drift.stderr, /column "archived_at" of relation "projects" already exists/);
    assert.match(await cli("downgrade", "base"), /Reverted 4 migrations/);
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("pglite:memory runs a whole upgrade in one process and starts empty each time", async () => {
  const env = { DATABASE_URL: "pglite:memory" };
  const up = await runCli(["--dir", EXAMPLES, "upgrade"], { env });
  assert.equal(up.code, 0, up.stderr);
  assert.equal(up.stdout.split("\n").filter((l) => l.startsWith("up ")).length, 5);
  const cur = await runCli(["--dir", EXAMPLES, "current"], { env });
  assert.equal(cur.stdout, "base (no migrations applied)\n");
  const bad = await runCli(["--dir", EXAMPLES, "current"], { env: { DATABASE_URL: "pglite:" } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /BAD_DATABASE_URL.*"pglite:" needs a place/);
});

Deno.test("deno task demo runs end to end with nothing but Deno", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  for (const step of ["upgrade", "history", "downgrade -1", "current", "verify"]) {
    assert.match(stdout, new RegExp(`==> strata ${step} `));
  }
  assert.match(stdout, /verify: 5 migrations, 5 ok, 0 failed/);
});
