/**
 * The container recipe, checked without a Docker engine (none runs where
 * strata is developed): the Dockerfile holds only the program, its bundle
 * image's entrypoint (run here as written) refuses an empty or missing
 * /migrations, .dockerignore keeps the context small, and compose waits for
 * the database's healthcheck.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { bundle } from "../scripts/bundle.ts";
import { strataRunFlags } from "../scripts/strata_command.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DOCKERFILE = Deno.readTextFileSync(`${ROOT}Dockerfile`);
const instructions = DOCKERFILE.split("\n").filter((l) => /^[A-Z]+ /.test(l));

/** The instructions of the stage named `name`. */
function stage(name: string): string[] {
  const start = instructions.findIndex((l) => new RegExp(`^FROM .* AS ${name}$`).test(l));
  assert.ok(start !== -1, `stage ${name}`);
  const end = instructions.findIndex((l, i) => i > start && l.startsWith("FROM "));
  return instructions.slice(start, end === -1 ? undefined : end);
}

/** Whether .dockerignore (patterns in order, `!` re-includes) keeps `path` in the context. */
function inContext(path: string): boolean {
  const patterns = Deno.readTextFileSync(`${ROOT}.dockerignore`).split("\n")
    .map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  let included = true;
  for (const p of patterns) {
    const negate = p.startsWith("!");
    const pattern = (negate ? p.slice(1) : p).replace(/\/$/, "");
    const re = new RegExp(
      `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}(/|$)`,
    );
    if (re.test(path)) included = negate;
  }
  return included;
}

Deno.test("the Dockerfile copies no migrations into the image, only the program", () => {
  assert.deepEqual(instructions.filter((l) => /^COPY\b.*\bmigrations\b/.test(l)), []);
  for (const l of instructions.filter((l) => l.startsWith("COPY ") && !l.includes("--from="))) {
    for (const src of l.split(/\s+/).slice(1, -1)) {
      Deno.statSync(`${ROOT}${src}`);
      assert.ok(inContext(src), `${src} is in the build context`);
    }
  }
  assert.match(
    instructions.at(-2)!,
    /^ENTRYPOINT \["strata"\]$/,
    "the default image is the binary",
  );
  for (const name of ["bundle", "binary"]) {
    assert.ok(stage(name).includes("ENV STRATA_DIR=/migrations"), name);
    assert.ok(stage(name).some((l) => /^USER (deno|nonroot)$/.test(l)), `${name} runs as non-root`);
  }
});

/** The stages `name` is built from (its FROM and COPY --from stages), itself included. */
function stagesOf(name: string): string[] {
  const names = instructions.filter((l) => l.startsWith("FROM ")).map((l) => l.split(/\s+/).at(-1));
  const lines = stage(name);
  const sources = [lines[0].split(/\s+/)[1], ...lines.map((l) => l.match(/--from=(\S+)/)?.[1])];
  const parents = sources.filter((s): s is string => s !== undefined && names.includes(s));
  return [name, ...parents.flatMap(stagesOf)];
}

Deno.test("the Dockerfile bundles only for the bundle image, never for the default one", () => {
  const runsBundle = (name: string) => stage(name).some((l) => /^RUN deno task bundle$/.test(l));
  assert.deepEqual(stagesOf("binary").filter(runsBundle), [], "the binary's stages");
  assert.ok(stagesOf("binary").some((s) => stage(s).includes("RUN deno task compile")));
  assert.equal(stagesOf("bundle").filter(runsBundle).length, 1, "the bundle's stages");
});

Deno.test(".dockerignore keeps the demo database and the demo migrations out of the context", () => {
  for (
    const path of [
      ".strata",
      ".strata/demo/base",
      "migrations",
      "migrations/0001_x.up.sql",
      "tests",
      ".git",
    ]
  ) {
    assert.equal(inContext(path), false, path);
  }
  for (const path of ["deno.json", "deno.lock", "main.ts", "lib/cli/cli.ts", "scripts/bundle.ts"]) {
    assert.equal(inContext(path), true, path);
  }
});

Deno.test("docker-compose.yml: migrate waits for the database's healthcheck; the app for migrate", () => {
  const compose = parse(Deno.readTextFileSync(`${ROOT}docker-compose.yml`));
  assert.ok(compose.services.db.healthcheck.test, "the database has a healthcheck");
  assert.equal(compose.services.migrate.depends_on.db.condition, "service_healthy");
  assert.ok(compose.services.migrate.volumes.includes("./migrations:/migrations:ro"));
  assert.equal(compose.services.app.depends_on.migrate.condition, "service_completed_successfully");
});

Deno.test("the bundle image's entrypoint, as written, refuses an empty or missing /migrations", async () => {
  const entry = stage("bundle").find((l) => l.startsWith("ENTRYPOINT "))!;
  const argv: string[] = JSON.parse(entry.slice("ENTRYPOINT ".length));
  assert.equal(argv[0], "deno");
  assert.deepEqual(argv.slice(2, -1), strataRunFlags(), "the flags of deno task strata");
  const work = await Deno.makeTempDir({ prefix: "strata_test_container_" });
  try {
    assert.equal(await bundle(`${work}/strata.js`), null);
    await Deno.mkdir(`${work}/migrations`);
    const run = async (dir: string, extra: string[] = []) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [...argv.slice(1, -1), `${work}/strata.js`, ...extra, "upgrade"],
        cwd: work,
        clearEnv: true,
        env: {
          STRATA_DIR: dir,
          DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
          NO_COLOR: "1",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    };
    const empty = await run(`${work}/migrations`);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /NO_MIGRATIONS.*holds no migration files/);
    assert.match(empty.stderr, /mount them at \/migrations/);
    const missing = await run(`${work}/nope`);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /DIR_NOT_FOUND/);
    const allowed = await run(`${work}/migrations`, ["--allow-empty"]);
    assert.equal(allowed.code, 3, "with --allow-empty it goes on, to the (absent) database");
    assert.match(allowed.stderr, /CONNECTION_FAILED/);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
