/**
 * README and `--help` agree: every option of every command, the error codes
 * with their exit codes, and the exit codes themselves.
 */

import assert from "node:assert/strict";
import { COMMANDS } from "../lib/cli/spec.ts";
import { type ErrorCode, exitCodeFor } from "../lib/core/errors.ts";
import { runCli } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);

/** The long options a help text lists in its option column (not those named in prose). */
function helpOptions(text: string, section: "Options:" | "Global options:"): string[] {
  const start = text.indexOf(`\n${section}\n`);
  if (start === -1) return [];
  const body = text.slice(start + section.length + 2).split("\n\n")[0];
  return [...body.matchAll(/^ {2}(?:-\w, | {4})--([a-z][a-z0-9-]*)/gm)].map((m) => `--${m[1]}`);
}

/** README's "Every option, by command" table: command (or "every command") to its options. */
function readmeOptionTable(): Map<string, string[]> {
  const start = README.indexOf("| command       | options");
  assert.ok(start !== -1, 'README has the "Every option, by command" table');
  const rows = README.slice(start).split("\n\n")[0].split("\n").slice(2);
  return new Map(rows.map((row) => {
    const [, command, options] = row.split("|").map((c) => c.trim());
    return [
      command.replaceAll("`", ""),
      [...options.matchAll(/`(--[a-z0-9-]+)`/g)].map((m) => m[1]),
    ];
  }));
}

/** README's error table: code to exit code. */
function readmeErrorTable(): Map<string, string> {
  const start = README.indexOf("## Error codes");
  const out = new Map<string, string>();
  for (const line of README.slice(start).split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith("`")) continue;
    const codes = [...cells[1].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]);
    const exits = cells[2].split(",").map((e) => e.trim());
    codes.forEach((code, i) => out.set(code, exits[i] ?? exits[0]));
  }
  return out;
}

Deno.test("README lists exactly the options each command's --help lists", async () => {
  const table = readmeOptionTable();
  const program = await runCli(["--help"]);
  assert.deepEqual(
    [...(table.get("every command") ?? [])].sort(),
    helpOptions(program.stdout, "Options:").sort(),
    "the options of every command",
  );
  for (const name of Object.keys(COMMANDS)) {
    const help = await runCli([name, "--help"]);
    assert.equal(help.code, 0, help.stderr);
    assert.deepEqual(
      [...(table.get(name) ?? [])].sort(),
      helpOptions(help.stdout, "Options:").sort(),
      `README's row for "${name}" and "strata ${name} --help"`,
    );
    assert.deepEqual(
      helpOptions(help.stdout, "Global options:").sort(),
      [...(table.get("every command") ?? [])].sort(),
    );
  }
  assert.deepEqual([...table.keys()].sort(), ["every command", ...Object.keys(COMMANDS)].sort());
});

Deno.test("every option of every command appears in README's text as well", async () => {
  const prose = README.replace(/\| command {7}\| options[\s\S]*?\n\n/, "");
  const missing: string[] = [];
  for (const name of Object.keys(COMMANDS)) {
    for (const option of helpOptions((await runCli([name, "--help"])).stdout, "Options:")) {
      if (!new RegExp(`(?<![\\w-])${option}(?![\\w-])`).test(prose)) {
        missing.push(`${name} ${option}`);
      }
    }
  }
  assert.deepEqual(missing, [], "options README does not explain");
});

Deno.test("every error code is in README's error table with its exit code", () => {
  const source = Deno.readTextFileSync(`${ROOT}lib/core/errors.ts`);
  const union = source.slice(
    source.indexOf("export type ErrorCode"),
    source.indexOf(";", source.indexOf("export type ErrorCode")),
  );
  const codes = [...union.matchAll(/"([A-Z_]+)"/g)].map((m) => m[1] as ErrorCode);
  assert.ok(codes.length > 40, `found ${codes.length} codes`);
  const table = readmeErrorTable();
  assert.deepEqual(codes.filter((c) => !table.has(c)), [], "codes missing from README's table");
  for (const code of codes) {
    assert.equal(table.get(code), String(exitCodeFor(code)), `exit code of ${code}`);
  }
  for (const code of table.keys()) assert.ok(codes.includes(code as ErrorCode), `${code} exists`);
});

Deno.test("--help lists every exit code of README's table, 5 included", async () => {
  const start = README.indexOf("## Exit codes");
  const exits = [...README.slice(start, README.indexOf("## Error codes")).matchAll(/^\| (\d+) /gm)]
    .map((m) => m[1]);
  assert.ok(exits.includes("5"));
  for (const args of [["--help"], ["status", "--help"], ["downgrade", "--help"]]) {
    const help = (await runCli(args)).stdout.replace(/\s+/g, " ");
    for (const code of exits) {
      assert.match(help, new RegExp(`[ ,]${code} [a-z]`), `${args}: ${code}`);
    }
    assert.match(help, /5 pending migrations \(status --exit-code\)/);
    assert.match(help, /130\/143 interrupted/);
  }
});

Deno.test("downgrade --help does not offer --allow-out-of-order; upgrade --help does", async () => {
  const down = await runCli(["downgrade", "--help"]);
  assert.doesNotMatch(down.stdout, /--allow-out-of-order/);
  assert.match((await runCli(["upgrade", "--help"])).stdout, /--allow-out-of-order/);
  const refused = await runCli(["downgrade", "base", "--allow-out-of-order"]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /option --allow-out-of-order does not apply to it/);
});
