/**
 * Versions and names are printed one way everywhere: as written in the file
 * names (`0005`, never `5`), with one JSON shape for `head`, and stamp's
 * lines naming migrations alike.
 */

import assert from "node:assert/strict";
import { parseTarget } from "../lib/core/plan.ts";
import { runCli, serverTest } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;

serverTest("show and log print versions as written in the file names", async (db) => {
  const env = { DATABASE_URL: db.url };
  const show = await runCli(["--dir", EXAMPLES, "show", "5"], { env });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^header: {4}revises 0004,/m);
  const showJson = JSON.parse(
    (await runCli(["--dir", EXAMPLES, "--json", "show", "0005"], { env }))
      .stdout,
  );
  assert.equal(showJson.up.header.revises, "0004");
  assert.equal((await runCli(["--dir", EXAMPLES, "upgrade", "2"], { env })).code, 0);
  const log = await runCli(["--dir", EXAMPLES, "log"], { env });
  assert.match(log.stdout, /up {4}0002 {2}create_survey_points {2}ok/);
  assert.doesNotMatch(log.stdout, / up {4}2 /);
  const logJson = JSON.parse((await runCli(["--dir", EXAMPLES, "--json", "log"], { env })).stdout);
  assert.deepEqual(logJson.entries.map((e: { version: string }) => e.version), ["0002", "0001"]);
});

serverTest("current and status give head one JSON shape: the last version", async (db) => {
  const env = { DATABASE_URL: db.url };
  const json = async (cmd: string) =>
    JSON.parse((await runCli(["--dir", EXAMPLES, "--json", cmd], { env })).stdout);
  const atBase = [await json("current"), await json("status")];
  assert.deepEqual(atBase.map((j) => j.head), ["0005", "0005"]);
  assert.equal(atBase[0].atHead, false);
  await runCli(["--dir", EXAMPLES, "upgrade"], { env });
  const atHead = [await json("current"), await json("status")];
  assert.deepEqual(atHead.map((j) => j.head), ["0005", "0005"]);
  assert.equal(atHead[0].atHead, true);
});

serverTest("stamp names a migration the same way on its + and - lines", async (db) => {
  const env = { DATABASE_URL: db.url };
  const add = await runCli(["--dir", EXAMPLES, "stamp", "0002"], { env });
  assert.match(add.stdout, /^\+ {2}0002 {2}create survey points {2}\(recorded as applied/m);
  const remove = await runCli(["--dir", EXAMPLES, "stamp", "0001"], { env });
  assert.match(remove.stdout, /^- {2}0002 {2}create survey points {2}\(row removed/m);
});

Deno.test("parseTarget() hints that -0 and +0 are no step, not the other verb", () => {
  for (const [text, verb, step] of [["-0", "downgrade", "-1"], ["+0", "upgrade", "+1"]] as const) {
    assert.throws(() => parseTarget(text, verb), (e: Error & { hint?: string }) => {
      assert.match(
        e.hint ?? "",
        new RegExp(`"\\${text}" is no step at all: give \\${step} or more`),
      );
      assert.doesNotMatch(e.hint ?? "", /belongs to/);
      return true;
    });
  }
  assert.throws(() => parseTarget("-1", "upgrade"), /not a target/);
});

Deno.test("downgrade -0 and upgrade +0 exit 2 with that hint", async () => {
  const down = await runCli(["--dir", EXAMPLES, "downgrade", "-0"]);
  assert.equal(down.code, 2);
  assert.match(down.stderr, /"-0" is no step at all: give -1 or more/);
  const up = await runCli(["--dir", EXAMPLES, "upgrade", "+0"]);
  assert.equal(up.code, 2);
  assert.match(up.stderr, /"\+0" is no step at all: give \+1 or more/);
});
