/**
 * The installed command, as a new user gets it: `deno task install` from a
 * fresh clone into a temporary root, then `strata` from another directory;
 * README's quick start for one's own project, line by line; and README's
 * module-URL install line against a copy of the clone served over HTTP.
 */

import assert from "node:assert/strict";
import { installBinDir, pathAdvice } from "../scripts/install.ts";
import { serverTest, type TestDb } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const README = Deno.readTextFileSync(`${ROOT}README.md`);
const DENO_BIN_DIR = Deno.execPath().replace(/\/[^/]+$/, "");

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a shell line with a clean environment, the install root's bin first on PATH. */
async function sh(line: string, how: { cwd: string; root: string; env?: Record<string, string> }) {
  const out = await new Deno.Command("sh", {
    args: ["-c", line],
    cwd: how.cwd,
    clearEnv: true,
    env: {
      PATH: `${how.root}/bin:${DENO_BIN_DIR}:/usr/local/bin:/usr/bin:/bin`,
      HOME: Deno.env.get("HOME") ?? "/tmp",
      NO_COLOR: "1",
      DENO_INSTALL_ROOT: how.root,
      ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
      ...how.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const r: Run = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  return r;
}

/** A fresh clone of this repository (its committed state) in a temporary directory. */
async function freshClone(): Promise<{ work: string; clone: string }> {
  const work = await Deno.makeTempDir({ prefix: "strata_test_install_" });
  const clone = `${work}/strata`;
  const out = await new Deno.Command("git", {
    args: ["clone", "--quiet", ROOT, clone],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`git clone: ${new TextDecoder().decode(out.stderr)}`);
  return { work, clone };
}

/** The flags `deno task strata` runs with (deno.json), that an installed command must have too. */
function strataTaskFlags(denoJson: string): string[] {
  const task: string = JSON.parse(Deno.readTextFileSync(denoJson)).tasks.strata;
  return task.split(/\s+/).filter((w) => /^--(allow-|v8-flags)/.test(w)).sort();
}

/** The commands of a ```sh block that follows `heading` in README (comments dropped). */
function readmeBlock(heading: string): string[] {
  const start = README.indexOf(heading);
  assert.ok(start !== -1, `README has "${heading}"`);
  const open = README.indexOf("```sh\n", start);
  const block = README.slice(open + 6, README.indexOf("```", open + 6));
  return block.split("\n").map((l) => l.replace(/\s+#.*$/, "").trim()).filter((l) => l !== "");
}

async function upgradeFromElsewhere(root: string, db: TestDb, clone: string) {
  const project = await Deno.makeTempDir({ prefix: "strata_test_project_" });
  try {
    await Deno.mkdir(`${project}/migrations`);
    for (const e of Deno.readDirSync(`${clone}/migrations`)) {
      await Deno.copyFile(`${clone}/migrations/${e.name}`, `${project}/migrations/${e.name}`);
    }
    const version = await sh("strata --version", { cwd: project, root });
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^strata \d+\.\d+\.\d+ \(deno /);
    const up = await sh("strata upgrade", { cwd: project, root, env: { DATABASE_URL: db.url } });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Applied 5 migrations .*base -> 0005/);
  } finally {
    await Deno.remove(project, { recursive: true });
  }
}

Deno.test("installBinDir() follows --root, then DENO_INSTALL_ROOT, then ~/.deno", () => {
  const env = { HOME: "/home/u", DENO_INSTALL_ROOT: "/opt/deno/" };
  assert.equal(installBinDir(["--root", "/r"], env), "/r/bin");
  assert.equal(installBinDir(["--root=/r/"], env), "/r/bin");
  assert.equal(installBinDir([], env), "/opt/deno/bin");
  assert.equal(installBinDir([], { HOME: "/home/u" }), "/home/u/.deno/bin");
  assert.equal(installBinDir([], { HOME: "/home/u/" }), "/home/u/.deno/bin");
  assert.equal(installBinDir([], { HOME: "/home/u", DENO_INSTALL_ROOT: "" }), "/home/u/.deno/bin");
});

Deno.test("pathAdvice() is silent when the folder is on PATH, says what to add when not", () => {
  assert.equal(pathAdvice("/home/u/.deno/bin", "/usr/bin:/home/u/.deno/bin/"), null);
  assert.equal(pathAdvice("/home/u/.deno/bin", "/home/u/.deno/bin"), null);
  for (const path of ["/usr/bin:/bin", "", undefined, "/home/u/.deno/bin2"]) {
    const advice = pathAdvice("/home/u/.deno/bin", path);
    assert.ok(advice?.startsWith("strata is installed in /home/u/.deno/bin, which is not on"));
    assert.ok(advice?.includes('export PATH="/home/u/.deno/bin:$PATH"'));
  }
});

serverTest(
  "deno task install from a fresh clone: the strata task's flags; runs from elsewhere",
  async (db) => {
    const { work, clone } = await freshClone();
    const root = `${work}/root`;
    try {
      const install = await sh("deno task --quiet install", { cwd: clone, root });
      assert.equal(install.code, 0, install.stdout + install.stderr);
      const shim = await Deno.readTextFile(`${root}/bin/strata`);
      const exec = shim.split("\n").find((l) => l.startsWith("exec deno run"));
      assert.ok(exec, shim);
      const flags = exec.split(/\s+/).filter((w) => /^'?--(allow-|v8-flags)/.test(w))
        .map((w) => w.replaceAll("'", "")).sort();
      assert.deepEqual(flags, strataTaskFlags(`${clone}/deno.json`));
      assert.match(exec, new RegExp(`file://${clone}/main.ts`));
      assert.ok(
        install.stdout.includes("deno install -g -f -n strata --config"),
        "it prints the deno install line it runs",
      );
      assert.doesNotMatch(install.stderr, /PATH/, "no PATH advice when the folder is on PATH");
      // Installed again with the folder off PATH: the installer says where it went and what to do.
      const off = await sh("deno task --quiet install", {
        cwd: clone,
        root,
        env: { PATH: `${DENO_BIN_DIR}:/usr/local/bin:/usr/bin:/bin` },
      });
      assert.equal(off.code, 0, off.stdout + off.stderr);
      assert.ok(
        off.stderr.includes(`strata is installed in ${root}/bin, which is not on your PATH`),
        off.stderr,
      );
      assert.ok(off.stderr.includes(`export PATH="${root}/bin:$PATH"`), off.stderr);
      await upgradeFromElsewhere(root, db, clone);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
);

serverTest("README's quick start for one's own project: install, new, upgrade", async (db) => {
  const lines = readmeBlock("### In your own project");
  assert.equal(lines.length, 3, lines.join("\n"));
  assert.match(lines[0], /install/);
  assert.match(lines[1], /^strata new /);
  assert.match(lines[2], /^strata upgrade$/);
  const { work, clone } = await freshClone();
  const root = `${work}/root`;
  const project = `${work}/my-project`;
  await Deno.mkdir(project);
  try {
    const install = await sh(lines[0], { cwd: clone, root });
    assert.equal(install.code, 0, install.stderr);
    const made = await sh(lines[1], { cwd: project, root });
    assert.equal(made.code, 0, made.stderr);
    const [upFile, downFile] = made.stdout.trim().split("\n");
    assert.match(upFile, /^(\.\/)?migrations\/0001_\w+\.up\.sql$/);
    // What the reader does between the two commands: write the SQL.
    await Deno.writeTextFile(`${project}/${upFile}`, "CREATE TABLE users (id int PRIMARY KEY);\n", {
      append: true,
    });
    await Deno.writeTextFile(`${project}/${downFile}`, "DROP TABLE users;\n", { append: true });
    const up = await sh(lines[2], { cwd: project, root, env: { DATABASE_URL: db.url } });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /Applied 1 migration .*base -> 0001/);
    const [{ t }] = await db.sql`SELECT to_regclass('public.users')::text AS t`;
    assert.equal(t, "users");
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

serverTest(
  "README's module-URL install line works against a served copy of the repository",
  async (db) => {
    const { work, clone } = await freshClone();
    const root = `${work}/root`;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
      try {
        return new Response(await Deno.readFile(clone + new URL(req.url).pathname));
      } catch {
        return new Response("not found", { status: 404 });
      }
    });
    try {
      const base = `http://127.0.0.1:${server.addr.port}`;
      const lines = readmeBlock("Without a checkout, install from a published module URL");
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.match(lines[0], /^STRATA_URL=https:\/\//);
      assert.deepEqual(
        lines[1].split(/\s+/).filter((w) => /^--(allow-|v8-flags)/.test(w)).sort(),
        strataTaskFlags(`${clone}/deno.json`),
      );
      // raw.githubusercontent.com is on Deno's default import allow-list; this local host is not.
      const line = lines[1].replace(
        "deno install -g",
        `deno install -g --allow-import=127.0.0.1:${server.addr.port}`,
      );
      const empty = `${work}/elsewhere`;
      await Deno.mkdir(empty);
      const install = await sh(line, { cwd: empty, root, env: { STRATA_URL: base } });
      assert.equal(install.code, 0, install.stderr);
      assert.match(await Deno.readTextFile(`${root}/bin/strata`), new RegExp(`${base}/main.ts`));
      await server.shutdown();
      await upgradeFromElsewhere(root, db, clone);
    } finally {
      await server.shutdown().catch(() => {});
      await Deno.remove(work, { recursive: true });
    }
  },
);
