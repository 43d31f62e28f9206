/**
 * `deno task bench:startup`: the start-up budget. Times `strata current` on an
 * up-to-date database (the examples applied), for `deno run` from cache and for
 * dist/strata when it exists, plus `--version`. Medians of 15 runs. Not a test.
 */

import postgres from "postgres";
import { strataCommand } from "./strata_command.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ADMIN_URL = Deno.env.get("STRATA_BENCH_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres";
const RUN = strataCommand();
const BINARY = `${ROOT}dist/strata`;

async function timeOnce(cmd: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`${cmd.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return performance.now() - t0;
}

async function median(cmd: string[], env: Record<string, string>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < 15; i++) xs.push(await timeOnce(cmd, env));
  return xs.sort((a, b) => a - b)[7];
}

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const name = `strata_bench_${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;
await admin.unsafe(`CREATE DATABASE ${name}`);
try {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const env = { DATABASE_URL: u.toString(), STRATA_DIR: `${ROOT}migrations`, NO_COLOR: "1" };
  await timeOnce([...RUN, "upgrade"], env);
  const hasBinary = await Deno.stat(BINARY).then(() => true, () => false);
  const rows: Array<[string, string]> = [
    ["deno run (cached): --version", `${(await median([...RUN, "--version"], env)).toFixed(0)} ms`],
    ["deno run (cached): current", `${(await median([...RUN, "current"], env)).toFixed(0)} ms`],
    [
      "dist/strata: --version",
      hasBinary ? `${(await median([BINARY, "--version"], env)).toFixed(0)} ms` : "no binary",
    ],
    [
      "dist/strata: current",
      hasBinary ? `${(await median([BINARY, "current"], env)).toFixed(0)} ms` : "no binary",
    ],
  ];
  console.log("| strata, up-to-date database (5 migrations) | median of 15 |\n| --- | --- |");
  for (const [what, ms] of rows) console.log(`| ${what} | ${ms} |`);
} finally {
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
