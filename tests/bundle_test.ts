/**
 * `deno task bundle`: dist/strata.js is one file that runs with `deno run`
 * alone: an empty DENO_DIR, --cached-only (nothing can be fetched), no
 * deno.json, another working directory. PGlite stays a lazy npm import.
 */

import assert from "node:assert/strict";
import { bundle } from "../scripts/bundle.ts";
import { strataRunFlags } from "../scripts/strata_command.ts";
import { serverTest } from "./_helpers.ts";

const EXAMPLES = new URL("../migrations/", import.meta.url).pathname;
const work = await Deno.makeTempDir({ prefix: "strata_test_bundle_" });
const file = `${work}/strata.js`;
const built = await bundle(file);
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** Run the single file as README says, with only `deno` and a fresh, empty DENO_DIR. */
async function runBundle(args: string[], env: Record<string, string> = {}, denoDir?: string) {
  const emptyDir = await Deno.makeTempDir({ dir: work, prefix: "deno_dir_" });
  const cwd = await Deno.makeTempDir({ dir: work, prefix: "cwd_" });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...strataRunFlags(), "--no-config", "--cached-only", file, ...args],
    cwd,
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin", HOME: cwd, NO_COLOR: "1", DENO_DIR: denoDir ?? emptyDir, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("bundle() writes one file that holds strata and its driver, no npm import", async () => {
  assert.equal(built, null, built ?? "");
  const text = await Deno.readTextFile(file);
  const imports = [...text.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  assert.ok(imports.every((s) => s.startsWith("node:")), imports.join(", "));
  assert.doesNotMatch(text, /import\("npm:/, "npm packages are imported by computed specifier");
  assert.match(text, /StartupMessage|startupMessage/, "the wire driver is inlined");
});

Deno.test("dist/strata.js prints its version with an empty DENO_DIR and --cached-only", async () => {
  const r = await runBundle(["--version"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^strata \d+\.\d+\.\d+ \(deno /);
});

serverTest(
  "dist/strata.js runs upgrade and downgrade against the server, nothing cached",
  async (db) => {
    const up = await runBundle(["--dir", EXAMPLES, "upgrade"], { DATABASE_URL: db.url });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Applied 5 migrations .*base -> 0005/);
    const down = await runBundle(["--dir", EXAMPLES, "downgrade", "base"], {
      DATABASE_URL: db.url,
    });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stdout, /Reverted 5 migrations .*0005 -> base/);
  },
);

Deno.test("dist/strata.js on pglite: needs PGlite from npm: a clear error without it, works with it", async () => {
  const args = ["--dir", EXAMPLES, "--database-url", "pglite:memory", "status"];
  const none = await runBundle(args);
  assert.equal(none.code, 3, none.stderr);
  assert.match(none.stderr, /Cannot load npm:@electric-sql\/pglite@[\d.]+/);
  assert.match(none.stderr, /deno cache npm:@electric-sql\/pglite@/);
  const home = Deno.env.get("DENO_DIR") ??
    `${Deno.env.get("HOME")}/.cache/deno`;
  const cached = await runBundle(args, {}, home);
  assert.equal(cached.code, 0, cached.stderr);
  assert.match(cached.stdout, /pending: {2}5/);
});
