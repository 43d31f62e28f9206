/**
 * The single executable: built with scripts/compile.ts when a Deno runtime
 * (denort) can be had — from Deno's download host or DENORT_BIN — and run with
 * no Deno on PATH, from another working directory. Otherwise one ignored test
 * says why; it never passes by pretending.
 */

import assert from "node:assert/strict";
import { compile } from "../scripts/compile.ts";
import { serverTest } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const work = await Deno.makeTempDir({ prefix: "strata_test_bin_" });
const binary = `${work}/strata`;
const skip = await compile({ output: binary });
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

async function runBinary(args: string[], env: Record<string, string> = {}) {
  const emptyPath = `${work}/empty-path`;
  await Deno.mkdir(emptyPath, { recursive: true });
  const out = await new Deno.Command(binary, {
    args,
    cwd: work,
    clearEnv: true,
    env: { PATH: emptyPath, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

if (skip !== null) {
  Deno.test({ name: `binary tests skipped: ${skip}`, ignore: true, fn() {} });
} else {
  Deno.test("the binary prints its version, Deno's and the target, with no Deno on PATH", async () => {
    const r = await runBinary(["--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^strata \\d+\\.\\d+\\.\\d+ \\(deno [\\d.]+, ${Deno.build.target}\\)`),
    );
  });

  Deno.test("the binary runs upgrade and downgrade on pglite:memory", async () => {
    const r = await runBinary(["--dir", EXAMPLES, "--database-url", "pglite:memory", "upgrade"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Applied 5 migrations/);
    const v = await runBinary(["--dir", EXAMPLES, "verify"]);
    assert.equal(v.code, 0, v.stdout + v.stderr);
  });

  serverTest("the binary runs upgrade and downgrade against the server", async (db) => {
    const up = await runBinary(["--dir", EXAMPLES, "upgrade"], { DATABASE_URL: db.url });
    assert.equal(up.code, 0, up.stderr);
    const down = await runBinary(["--dir", EXAMPLES, "downgrade", "base"], {
      DATABASE_URL: db.url,
    });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Reverted 5 migrations/);
  });
}
