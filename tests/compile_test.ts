/**
 * `deno task compile`'s command line, checked without building: the
 * executable gets the permissions and V8 flags of `deno task strata`, read
 * from deno.json (tests/binary_test.ts builds and runs it).
 */

import assert from "node:assert/strict";
import { compileArgs } from "../scripts/compile.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("compileArgs() gives deno compile the permissions and V8 flags of deno task strata", () => {
  const task = (JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks.strata as string)
    .split(/\s+/);
  const flags = task.slice(task.indexOf("run") + 1, task.indexOf("main.ts"));
  assert.ok(flags.includes("--allow-net") && flags.some((f) => f.startsWith("--v8-flags=")));
  const args = compileArgs({ output: "/tmp/strata", target: "aarch64-apple-darwin" });
  assert.equal(args[0], "compile");
  assert.deepEqual(args.slice(1, 1 + flags.length), flags);
  assert.deepEqual(
    args.filter((a) => /^--(allow|deny)-|^--v8-flags|^-A$/.test(a)),
    flags.filter((a) => /^--(allow|deny)-|^--v8-flags/.test(a)),
    "no permission or V8 flag but the task's",
  );
  assert.deepEqual(args.slice(-5), [
    "--output",
    "/tmp/strata",
    "--target",
    "aarch64-apple-darwin",
    `${ROOT}main.ts`,
  ]);
});
