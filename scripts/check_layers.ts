/**
 * Keep the layering true. The edge folders of lib/ are listed here with what
 * each may import; every other module of lib/ is pure core: it imports only
 * core modules and `node:path`, never an edge module, an `npm:` package or a
 * bare import-map name, and never mentions `Deno.`. A new file is checked
 * the moment it exists. Run by `deno task lint`; exits 1 listing each
 * violation.
 */

import { dirname, join, relative } from "node:path";

/** Edge folders and the lib folders each may import (core is always allowed). */
const EDGES: Readonly<Record<string, readonly string[]>> = {
  fs: ["fs"],
  db: ["db", "fs"],
  lint: ["lint", "db", "fs"],
  import: ["import", "db", "fs"],
  commands: ["commands", "db", "fs", "lint", "import"],
  cli: ["cli", "commands", "db", "fs"],
};
const CORE_EXTERNAL = ["node:path"];

const root = new URL("../lib/", import.meta.url).pathname;
const problems: string[] = [];

function layerOf(path: string): string {
  const top = relative(root, path).split("/")[0];
  return top in EDGES ? top : "core";
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...walk(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

function checkImport(file: string, line: number, spec: string): void {
  const layer = layerOf(file);
  const where = `lib/${relative(root, file)}:${line}`;
  if (!spec.startsWith(".")) {
    if (layer === "core" && !CORE_EXTERNAL.includes(spec)) {
      problems.push(`${where}: core module imports "${spec}"`);
    }
    return;
  }
  const target = join(dirname(file), spec);
  if (!target.startsWith(root)) {
    problems.push(`${where}: imports "${spec}" from outside lib/`);
    return;
  }
  const to = layerOf(target);
  if (to === "core") return;
  if (layer === "core" || !EDGES[layer].includes(to)) {
    problems.push(`${where}: ${layer} module imports ${to} module "${spec}"`);
  }
}

for (const file of walk(root)) {
  const text = await Deno.readTextFile(file);
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  for (
    const m of text.matchAll(
      /^\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|import\("([^"]+)"\)/gm,
    )
  ) {
    checkImport(file, lineAt(m.index), m[1] ?? m[2]);
  }
  for (const [i, line] of text.split("\n").entries()) {
    const code = line.trim();
    if (
      layerOf(file) === "core" && /\bDeno\./.test(line) && !code.startsWith("*") &&
      !code.startsWith("//")
    ) {
      problems.push(`lib/${relative(root, file)}:${i + 1}: core module uses Deno.*`);
    }
  }
}
if (problems.length) {
  console.error(problems.join("\n"));
  Deno.exit(1);
}
