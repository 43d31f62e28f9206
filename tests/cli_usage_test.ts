import assert from "node:assert/strict";
import { useColor } from "../lib/core/output.ts";
import { run } from "../lib/cli/cli.ts";
import { runCli } from "./_helpers.ts";

Deno.test("strata --version prints version, Deno version and target", async () => {
  const r = await runCli(["--version"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^strata \d+\.\d+\.\d+ \(deno \d+\.\d+\.\d+, [a-z0-9_]+-[a-z0-9_-]+\)\n$/);
});

Deno.test("strata --help lists every command; each command has --help", async () => {
  const r = await runCli(["--help"]);
  assert.equal(r.code, 0);
  for (
    const c of [
      "upgrade",
      "downgrade",
      "stamp",
      "current",
      "status",
      "history",
      "show",
      "new",
      "validate",
      "log",
    ]
  ) {
    assert.match(r.stdout, new RegExp(`^  ${c} `, "m"));
    const h = await runCli([c, "--help"]);
    assert.equal(h.code, 0);
    assert.match(h.stdout, new RegExp(`^Usage: strata \\[OPTIONS\\] ${c}`, "m"));
  }
  const none = await runCli([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /Usage: strata/);
});

Deno.test("strata refuses unknown commands and options with exit 2", async () => {
  const cmd = await runCli(["upgrad"]);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /UNKNOWN_COMMAND.*"upgrad"[\s\S]*Did you mean "upgrade"/);
  const opt = await runCli(["upgrade", "--frobnicate"]);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /USAGE.*--frobnicate/);
  const typo = await runCli(["upgrade", "--lock-wiat", "3s"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /Unknown option '--lock-wiat'\nhint: Did you mean "--lock-wait"\?/);
  const global = await runCli(["--databse-url", "x", "current"]);
  assert.match(global.stderr, /Did you mean "--database-url"\?/);
  // Only options of the command given are suggested: drift has no --from.
  const scoped = await runCli(["drift", "--frob"]);
  assert.equal(scoped.code, 2);
  assert.doesNotMatch(scoped.stderr, /Did you mean/);
  const wrong = await runCli(["current", "--verbose"]);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /option --verbose does not apply to it/);
  const lockWait = await runCli(["upgrade", "--lock-wait", "forever"]);
  assert.equal(lockWait.code, 2);
  assert.match(lockWait.stderr, /--lock-wait "forever": not a duration/);
  const table = await runCli(["upgrade", "--table", "a.b.c"]);
  assert.equal(table.code, 2);
  assert.match(table.stderr, /BAD_TABLE_NAME.*--table "a.b.c"/);
});

Deno.test("useColor() colours only a terminal, never with NO_COLOR", () => {
  assert.equal(useColor({ isTty: true, noColor: undefined }), true);
  assert.equal(useColor({ isTty: false, noColor: undefined }), false);
  assert.equal(useColor({ isTty: true, noColor: "" }), false);
  assert.equal(useColor({ isTty: true, noColor: "1" }), false);
});

Deno.test("a bad migration file is reported (exit 2) even when the database is unreachable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_" });
  try {
    await Deno.writeTextFile(`${dir}/0001_a.up.sql`, "-- transactoin: false\nSELECT 1;");
    const r = await runCli(["--dir", dir, "upgrade"], {
      env: { DATABASE_URL: "postgres://postgres:hunter22@127.0.0.1:1/x" },
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /HEADER_UNKNOWN_KEY/);
    assert.ok(!r.stderr.includes("hunter22"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("validate refuses an empty or missing directory (exit 2) unless --allow-empty", async () => {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_empty_" });
  try {
    const empty = await runCli(["--dir", dir, "validate"]);
    assert.equal(empty.code, 2, empty.stdout + empty.stderr);
    assert.match(empty.stderr, /NO_MIGRATIONS.*holds no migration files/);
    const missing = await runCli(["--dir", `${dir}/nope`, "validate"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /DIR_NOT_FOUND/);
    for (const d of [dir, `${dir}/nope`]) {
      const allowed = await runCli(["--dir", d, "--allow-empty", "validate"]);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, /^0 migrations, 0 file problems/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an internal error is exit 1 with INTERNAL, as JSON under --json", async () => {
  for (const json of [false, true]) {
    let stderr = "";
    const code = await run([...(json ? ["--json"] : []), "--version"], {
      stdout: () => {
        throw new Error("stdout is gone");
      },
      stderr: (t) => void (stderr += t),
      env: {},
      isTty: false,
      readTextFile: (p) => Deno.readTextFile(p),
    });
    assert.equal(code, 1);
    if (json) {
      const doc = JSON.parse(stderr);
      assert.deepEqual([doc.code, doc.exit, doc.message], ["INTERNAL", 1, "stdout is gone"]);
      assert.match(doc.hint, /a bug in strata/);
    } else {
      assert.match(stderr, /^error\[INTERNAL\]: stdout is gone\nhint: this is a bug in strata/);
    }
  }
});
