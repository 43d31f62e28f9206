/**
 * `deno task bundle`: build `dist/strata.js`, one JavaScript file holding all
 * of strata and its own PostgreSQL driver, that runs with `deno run` and
 * nothing else (no deno.json, no network, an empty DENO_DIR):
 *
 *   deno task bundle                 # -> dist/strata.js
 *   deno run --v8-flags=--max-semi-space-size=2 --allow-read --allow-write \
 *     --allow-env --allow-net dist/strata.js upgrade
 *
 * The npm packages in deno.json's import map (PGlite for `pglite:` URLs,
 * postgres.js for STRATA_DRIVER=postgresjs, libpg-query for `lint`) are not
 * put into the file: each is replaced by a small module that imports
 * `npm:NAME@VERSION` when first used, so commands that never use one never
 * load it. Where the npm registry cannot be reached, such a command fails
 * with a message saying what to cache. The result is checked by running it
 * with --version.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { strataRunFlags } from "./strata_command.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * The names strata imports from each npm package. A package in the import
 * map that is missing here stops the build: its shim must export what
 * strata uses.
 */
const EXPORTS: Readonly<Record<string, readonly string[]>> = {
  "postgres": ["default"],
  "@electric-sql/pglite": ["PGlite"],
  "libpg-query": ["loadModule", "parseSync"],
  "@electric-sql/pglite-tools/pg_dump": ["pgDump"],
};

/** Imports only tests use: not part of strata, so not shimmed (the bundle fails if lib uses one). */
const TEST_ONLY: readonly string[] = ["yaml"];

/** The error code a failed load reports: a driver is the environment, lint's parser a tool. */
const CODES: Readonly<Record<string, string>> = {
  "postgres": "CONNECTION_FAILED",
  "@electric-sql/pglite": "CONNECTION_FAILED",
  "libpg-query": "TOOL_FAILED",
  "@electric-sql/pglite-tools/pg_dump": "TOOL_FAILED",
};

/** The text of the module that stands in for `name` (resolved to `specifier`) in the bundle. */
export function shimSource(name: string, specifier: string): string {
  const names = EXPORTS[name];
  if (!names) throw new Error(`deno.json imports "${name}": add the names strata uses to EXPORTS`);
  const errors = new URL("lib/core/errors.ts", `file://${ROOT}`).href;
  const exports = names.map((n) =>
    n === "default" ? "export default mod.default;" : `export const ${n} = mod.${n};`
  );
  if (!specifier.startsWith("npm:")) {
    throw new Error(`"${name}": only npm: packages can be shimmed`);
  }
  // The specifier is assembled at run time so that the bundler leaves the import alone.
  return [
    `import { StrataError } from ${JSON.stringify(errors)};`,
    `const specifier = ["npm:", ${JSON.stringify(specifier.slice(4))}].join("");`,
    "let mod;",
    "try {",
    "  mod = await import(specifier);",
    "} catch (err) {",
    `  throw new StrataError(${
      JSON.stringify(CODES[name])
    }, \`Cannot load \${specifier}: \${err?.message ?? err}\`, {`,
    "    hint: `The single-file build loads ${specifier} from the npm registry when first used; " +
    "run once with network access, or cache it beforehand: deno cache ${specifier}`,",
    "  });",
    "}",
    ...exports,
    "",
  ].join("\n");
}

/** Build `output`; returns an error text, or null when it was built and runs. */
export async function bundle(output: string): Promise<string | null> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const work = await Deno.makeTempDir({ prefix: "strata_bundle_" });
  try {
    const imports: Record<string, string> = {};
    for (const [name, specifier] of Object.entries(config.imports as Record<string, string>)) {
      if (TEST_ONLY.includes(name)) continue;
      await Deno.writeTextFile(
        `${work}/${name.replaceAll("/", "_")}.js`,
        shimSource(name, specifier),
      );
      imports[name] = `./${name.replaceAll("/", "_")}.js`;
    }
    await Deno.writeTextFile(`${work}/deno.json`, JSON.stringify({ imports }));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "deno",
        "--config",
        `${work}/deno.json`,
        "--no-lock",
        "-o",
        output,
        `${ROOT}main.ts`,
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) return `deno bundle failed: ${new TextDecoder().decode(out.stderr).trim()}`;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
  return await checkBundle(output);
}

async function checkBundle(output: string): Promise<string | null> {
  const check = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...strataRunFlags(), "--no-config", "--cached-only", output, "--version"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const version = new TextDecoder().decode(check.stdout);
  if (check.success && version.startsWith("strata ")) return null;
  return `the bundle does not run: ${new TextDecoder().decode(check.stderr).trim() || version}`;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Deno.args, options: { output: { type: "string" } } });
  const output = values.output ?? `${ROOT}dist/strata.js`;
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  const error = await bundle(output);
  console.log(error ? `FAILED ${output}: ${error}` : `built  ${output}`);
  Deno.exit(error ? 1 : 0);
}
