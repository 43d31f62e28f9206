/**
 * The CI recipes in examples/ (GitHub Actions, GitLab CI) parse as YAML,
 * run validate, verify and an offline dry run on pull requests, install
 * strata with README's module-URL line, and hold only valid strata command
 * lines; the ones that need no database are run here as written.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { checkArgCount, checkOptionsApply, parseCommandLine } from "../lib/cli/args.ts";
import { COMMANDS } from "../lib/cli/spec.ts";
import { runCli, tempMigrations } from "./_helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** Shell words of one command (quotes removed), up to a redirection, pipe or `&&`. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(>|\||&&|;)|([^\s"'>|;&]+)/g;
  for (const m of line.matchAll(re)) {
    if (m[3]) break;
    words.push(m[1] ?? m[2] ?? m[4]);
  }
  return words;
}

/** Every line of the recipe's shell steps, with where it came from. */
function commandLines(file: string): { lines: string[]; doc: Record<string, unknown> } {
  const doc = parse(Deno.readTextFileSync(`${ROOT}examples/${file}`));
  const lines: string[] = [];
  const add = (text: unknown) => {
    if (typeof text === "string") lines.push(...text.split("\n").map((l) => l.trim()));
  };
  for (const job of Object.values(doc.jobs ?? {}) as { steps?: { run?: string }[] }[]) {
    for (const step of job.steps ?? []) add(step.run);
  }
  for (const [key, job] of Object.entries(doc)) {
    if (key === "jobs" || typeof job !== "object" || job === null) continue;
    const j = job as Record<string, unknown>;
    for (const part of ["before_script", "script"]) {
      for (const text of (j[part] as unknown[] | undefined) ?? []) add(text);
    }
  }
  return { lines: lines.filter((l) => l !== ""), doc };
}

/** Throws unless `args` is a command line strata accepts (the CLI's own parser and checks). */
function checkStrataArgs(args: string[]): string {
  const { values, positionals } = parseCommandLine(args);
  const [name, ...rest] = positionals;
  assert.ok(name && COMMANDS[name], `no such command in "strata ${args.join(" ")}"`);
  checkOptionsApply(name, values);
  checkArgCount(name, rest);
  return name;
}

function readmeUrlInstall(): string {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const line = readme.split("\n").find((l) =>
    l.startsWith("deno install -g") && /STRATA_URL/.test(l)
  );
  assert.ok(line, "README shows the module-URL install line");
  return line.replace(/\s+#.*$/, "").trim();
}

for (const file of ["github-actions.yml", "gitlab-ci.yml"]) {
  Deno.test(`${file}: every strata command line is valid; validate, verify and an offline dry run`, () => {
    const { lines } = commandLines(file);
    const strata = lines.filter((l) => l.startsWith("strata "));
    const names = strata.map((l) => checkStrataArgs(shellWords(l).slice(1)));
    assert.ok(names.includes("validate") && names.includes("verify"), names.join(", "));
    assert.ok(strata.some((l) => /^strata upgrade --dry-run --from base\b/.test(l)));
    const installs = lines.filter((l) => l.startsWith("deno install"));
    assert.deepEqual(installs, [readmeUrlInstall()], "strata is installed as the README says");
  });
}

Deno.test("github-actions.yml runs on pull requests and annotates validate's problems", () => {
  const { lines, doc } = commandLines("github-actions.yml");
  assert.ok(doc.on === "pull_request" || JSON.stringify(doc.on).includes("pull_request"));
  assert.ok(lines.includes("strata validate --format github"));
});

Deno.test("gitlab-ci.yml runs in merge requests", () => {
  const { doc } = commandLines("gitlab-ci.yml");
  assert.match(JSON.stringify(doc), /merge_request_event/);
});

Deno.test("the recipes' database-free commands run as written on this repository's migrations", async () => {
  const seen = new Set<string>();
  for (const file of ["github-actions.yml", "gitlab-ci.yml"]) {
    for (const line of commandLines(file).lines) {
      const args = shellWords(line).slice(1);
      if (!line.startsWith("strata ") || args.includes("--scratch-url") || seen.has(line)) continue;
      if (args[0] === "verify") continue; // needs a scratch database: verify_test.ts covers it
      seen.add(line);
      const r = await runCli(args, { cwd: ROOT });
      assert.equal(r.code, 0, `${line}: ${r.stderr}`);
    }
  }
  assert.ok(seen.size >= 3, [...seen].join("\n"));
});

Deno.test("validate --format github prints ::error annotations with file and line", async () => {
  const dir = await tempMigrations({
    "0001_a.up.sql": "-- transactoin: false\nSELECT 1;\n",
    "0002_b.up.sql": "SELECT 1;\n",
  });
  try {
    const r = await runCli(["--dir", dir, "validate", "--format", "github"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stdout,
      new RegExp(
        `^::error file=${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/0001_a\\.up\\.sql,line=1,` +
          `title=HEADER_UNKNOWN_KEY::Cannot read header of "0001_a\\.up\\.sql" line 1: ` +
          `unknown key "transactoin"`,
        "m",
      ),
    );
    assert.match(r.stdout, /^::warning::"0002_b\.up\.sql" has no down file/m);
    const bad = await runCli(["--dir", dir, "validate", "--format", "gitlab"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format "gitlab": no such format/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shellWords() splits like sh for the recipes' lines", () => {
  assert.deepEqual(shellWords(`strata upgrade --dry-run --from base > migrate.sql`), [
    "strata",
    "upgrade",
    "--dry-run",
    "--from",
    "base",
  ]);
  assert.deepEqual(shellWords(`deno install --import-map "$U/deno.json" 'a b'`), [
    "deno",
    "install",
    "--import-map",
    "$U/deno.json",
    "a b",
  ]);
});
