/**
 * `deno run -A scripts/bench_lint.ts [--files N] [--rounds R]`: the lint
 * budget. Generates N migration files (default 1000: tables, columns,
 * indexes, constraints, functions with dollar-quoted bodies, data, about a
 * third of them unsafe) and times `strata lint --all` on them as users run it
 * (`deno task strata`, a new process each round, so parser loading and
 * start-up count), plus `--json`. Prints medians of R rounds (default 5) as
 * a markdown table. The budget is 2 s for 1000 files. Needs no database. Not a test.
 */

import { parseArgs } from "node:util";
import { strataCommand } from "./strata_command.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    files: { type: "string", default: "1000" },
    rounds: { type: "string", default: "5" },
  },
});
const FILES = Number(values.files);
const ROUNDS = Number(values.rounds);

/** The text of generated migration `i` (1-based), one of several shapes. */
function migration(i: number): string {
  const t = `t${i}`;
  const earlier = `t${Math.max(1, i - 7)}`;
  const header = `-- message: generated migration ${i}\n-- author: bench\n`;
  switch (i % 6) {
    case 1:
      return header +
        `CREATE TABLE ${t} (\n  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n` +
        `  name text NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now()\n);\n` +
        `CREATE INDEX ${t}_name ON ${t} (name);\nCOMMENT ON TABLE ${t} IS 'table ${i}; generated';\n`;
    case 2:
      return header + "-- lock-timeout: 2s\n" +
        `ALTER TABLE ${earlier} ADD COLUMN note_${i} text;\n` +
        `ALTER TABLE ${earlier} ADD COLUMN score_${i} int DEFAULT 0;\n`;
    case 3:
      return header + `CREATE INDEX ${earlier}_c${i} ON ${earlier} (created_at);\n` +
        `ALTER TABLE ${earlier} ADD CONSTRAINT ${earlier}_k${i} CHECK (id > 0);\n`;
    case 4:
      return header + `CREATE FUNCTION f${i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n` +
        `  NEW.name := trim(NEW.name); -- keep names tidy; really\n  RETURN NEW;\nEND;\n$$;\n` +
        `INSERT INTO ${earlier} (name) VALUES ('it''s ${i}'), (E'tab\\there');\n`;
    case 5:
      return header + `CREATE INDEX CONCURRENTLY ${earlier}_n${i} ON ${earlier} (name);\n`;
    default:
      return header + "-- lock-timeout: 5s\n" +
        `ALTER TABLE ${earlier} ALTER COLUMN name TYPE varchar(200), ` +
        `ADD COLUMN token_${i} uuid DEFAULT gen_random_uuid();\n` +
        `ALTER TABLE ${earlier} RENAME COLUMN note_${i - 4} TO remark_${i};\n`;
  }
}

async function timeOnce(args: string[]): Promise<{ ms: number; code: number; stdout: string }> {
  const [cmd, ...rest] = strataCommand();
  const t0 = performance.now();
  const out = await new Deno.Command(cmd, {
    args: [...rest, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    ms: performance.now() - t0,
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
  };
}

async function median(args: string[]): Promise<{ ms: number; last: string; code: number }> {
  const runs = [];
  for (let r = 0; r < ROUNDS; r++) runs.push(await timeOnce(args));
  const sorted = runs.map((x) => x.ms).sort((a, b) => a - b);
  return {
    ms: sorted[Math.floor(sorted.length / 2)],
    last: runs.at(-1)!.stdout,
    code: runs[0].code,
  };
}

const dir = await Deno.makeTempDir({ prefix: "strata_bench_lint_" });
try {
  const width = String(FILES).length < 4 ? 4 : String(FILES).length;
  for (let i = 1; i <= FILES; i++) {
    await Deno.writeTextFile(`${dir}/${String(i).padStart(width, "0")}_m${i}.up.sql`, migration(i));
  }
  const bytes = [...Deno.readDirSync(dir)].reduce(
    (n, e) => n + Deno.statSync(`${dir}/${e.name}`).size,
    0,
  );
  const text = await median(["lint", "--all", "--dir", dir]);
  const json = await median(["lint", "--all", "--json", "--dir", dir]);
  const version = await median(["--version"]);
  const summary = JSON.parse(json.last).summary;
  console.log(
    `${FILES} files, ${(bytes / 1024).toFixed(0)} KiB; ${summary.errors} errors, ` +
      `${summary.warnings} warnings (exit ${text.code})\n`,
  );
  console.log(`| strata lint, ${FILES} generated files | median of ${ROUNDS} |\n| --- | --- |`);
  console.log(`| lint --all (text) | ${text.ms.toFixed(0)} ms |`);
  console.log(`| lint --all --json | ${json.ms.toFixed(0)} ms |`);
  console.log(`| --version (process start-up, for reference) | ${version.ms.toFixed(0)} ms |`);
  if (text.ms > 2000) console.log(`\nover the 2 s budget by ${(text.ms - 2000).toFixed(0)} ms`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
