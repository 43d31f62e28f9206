import assert from "node:assert/strict";
import { useColor } from "../lib/output.ts";
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
