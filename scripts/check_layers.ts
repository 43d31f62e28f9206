/**
 * Keep the layering true: core modules of lib/ import only core modules (and
 * node:path), never an edge module, npm: package or Deno API. Run by
 * `deno task lint`; exits 1 listing each violation.
 */

const CORE = [
  "config",
  "errors",
  "files",
  "header",
  "location",
  "output",
  "plan",
  "quote",
  "run_mode",
  "script",
  "snapshot_diff",
  "state",
  "sql_lexer",
  "types",
  "version",
];

const lib = new URL("../lib/", import.meta.url);
const problems: string[] = [];
for (const name of CORE) {
  const path = new URL(`${name}.ts`, lib);
  const text = await Deno.readTextFile(path);
  for (const [i, line] of text.split("\n").entries()) {
    const m = /^\s*(?:import|export)\s.*from\s+"([^"]+)"/.exec(line) ??
      /import\("([^"]+)"\)/.exec(line);
    if (m) {
      const spec = m[1];
      const target = spec.replace(/^\.\//, "").replace(/\.ts$/, "");
      if (spec.startsWith("./") ? !CORE.includes(target) : spec !== "node:path") {
        problems.push(`lib/${name}.ts:${i + 1}: core module imports "${spec}"`);
      }
    }
    if (/\bDeno\./.test(line) && !line.trim().startsWith("*") && !line.trim().startsWith("//")) {
      problems.push(`lib/${name}.ts:${i + 1}: core module uses Deno.*`);
    }
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  Deno.exit(1);
}
