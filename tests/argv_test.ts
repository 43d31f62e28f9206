/**
 * argv.ts: strata's strict command-line parser, every form and every error.
 */

import assert from "node:assert/strict";
import { ArgvError, parseArgv } from "../lib/cli/argv.ts";

const OPTIONS = {
  dir: { type: "string" },
  "dry-run": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "V" },
  verbose: { type: "boolean", short: "v" },
  table: { type: "string", short: "t" },
} as const;

function parse(...args: string[]) {
  return parseArgv(args, OPTIONS);
}

function failure(args: string[]): ArgvError {
  try {
    parseArgv(args, OPTIONS);
  } catch (err) {
    assert.ok(err instanceof ArgvError, String(err));
    return err;
  }
  assert.fail(`${args.join(" ")} parsed`);
}

Deno.test("parseArgv() reads every form of option and positional", () => {
  assert.deepEqual(parse(), { values: {}, positionals: [] });
  assert.deepEqual(parse("upgrade", "0003"), { values: {}, positionals: ["upgrade", "0003"] });
  assert.deepEqual(parse("--dir", "db", "upgrade").values, { dir: "db" });
  assert.deepEqual(parse("--dir=db").values, { dir: "db" });
  assert.deepEqual(parse("--dir=").values, { dir: "" }, "an empty value after =");
  assert.deepEqual(parse("--dir=a=b").values, { dir: "a=b" }, "only the first = splits");
  assert.deepEqual(parse("-t", "x").values, { table: "x" });
  assert.deepEqual(parse("-tx").values, { table: "x" });
  assert.deepEqual(parse("-hV").values, { help: true, version: true });
  assert.deepEqual(parse("-vtx").values, { verbose: true, table: "x" }, "a value ends a group");
  assert.deepEqual(parse("--dir", "a", "--dir", "b").values, { dir: "b" }, "the last wins");
  assert.deepEqual(parse("--dir", "-").values, { dir: "-" }, "a lone dash is a value");
  assert.deepEqual(parse("-", "x").positionals, ["-", "x"]);
});

Deno.test("parseArgv(): after -- everything is positional", () => {
  assert.deepEqual(parse("downgrade", "--", "-1", "--dir"), {
    values: {},
    positionals: ["downgrade", "-1", "--dir"],
  });
  assert.deepEqual(parse("--dry-run", "--", "--").positionals, ["--"]);
});

Deno.test("parseArgv() names the word at fault", () => {
  const unknown = failure(["upgrade", "--frobnicate"]);
  assert.equal(unknown.message, "Unknown option '--frobnicate'");
  assert.equal(unknown.unknown, "--frobnicate");
  assert.equal(failure(["--frobnicate=1"]).unknown, "--frobnicate");
  assert.equal(failure(["-x"]).message, "Unknown option '-x'");
  assert.equal(failure(["-hx"]).unknown, "-x", "inside a group");
  assert.equal(failure(["--dir"]).message, "Option '--dir <value>' argument missing");
  assert.equal(failure(["-t"]).message, "Option '-t <value>' argument missing");
  assert.equal(failure(["--dry-run=yes"]).message, "Option '--dry-run' does not take an argument");
  assert.match(
    failure(["--dir", "--dry-run"]).message,
    /'--dir' argument is ambiguous.*--dir=--dry-run/,
  );
  assert.equal(failure(["--constructor"]).unknown, "--constructor", "no inherited names");
  assert.equal(failure(["--dry-run=yes"]).unknown, undefined);
});
