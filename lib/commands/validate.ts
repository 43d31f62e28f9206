/**
 * `validate`: check every file and list every problem; with a database
 * configured, also checksums, missing files, order and interrupted runs.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { loadMigrations } from "../core/files.ts";
import { findAllProblems, type StateProblem } from "../core/state.ts";
import type { Migration } from "../core/types.ts";
import { type CommandContext } from "./context.ts";
import { readEntries, readStateOnly, refuseEmpty } from "./load.ts";
import { hasDatabase } from "./session.ts";
import type { OptionValues, VALIDATE_OPTIONS } from "./options.ts";

/** Exit 0 when all is well, 2 for file problems, 4 when the database disagrees. */
export async function runValidate(
  ctx: CommandContext,
  options: OptionValues<typeof VALIDATE_OPTIONS>,
): Promise<number> {
  const github = parseFormat(options.format, ctx.json);
  const { migrations, warnings, problems } = await loadMigrations(readEntries(ctx));
  if (problems.length === 0) refuseEmpty(ctx, migrations);
  const hasDb = hasDatabase(ctx);
  let dbProblems: StateProblem[] = [];
  if (hasDb && problems.length === 0) {
    const { rows, edited } = await readStateOnly(ctx, migrations);
    dbProblems = findAllProblems(migrations, rows, edited);
  }
  const report = { migrations, warnings, problems, dbProblems, hasDb };
  ctx.io.stdout(
    ctx.json
      ? JSON.stringify(jsonReport(report)) + "\n"
      : github
      ? githubAnnotations(report, ctx.dir) + humanReport(report)
      : humanReport(report),
  );
  return problems.length > 0 ? 2 : dbProblems.length > 0 ? 4 : 0;
}

interface Report {
  migrations: readonly Migration[];
  warnings: readonly string[];
  problems: readonly StrataError[];
  dbProblems: readonly StateProblem[];
  hasDb: boolean;
}

function humanReport(r: Report): string {
  const lines = r.migrations.map((m) =>
    `${m.versionText}  ${m.message}: up ${m.up.runMode.reason}` +
    (m.down ? `; down ${m.down.runMode.reason}` : "; no down file")
  );
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  for (const p of r.problems) {
    lines.push(`problem[${p.code}]: ${p.message}`, ...(p.hint ? [`  hint: ${p.hint}`] : []));
  }
  for (const p of r.dbProblems) lines.push(`database: ${p.message}`);
  const db = r.hasDb
    ? r.problems.length ? "database not checked (fix the files first)" : `database checked`
    : "no database configured: files only";
  lines.push(
    `${r.migrations.length} migrations, ${r.problems.length} file problems, ` +
      `${r.dbProblems.length} database problems, ${r.warnings.length} warnings; ${db}`,
  );
  return lines.join("\n") + "\n";
}

function jsonReport(r: Report) {
  return {
    migrations: r.migrations.map((m) => ({
      version: m.versionText,
      name: m.name,
      up: {
        file: m.up.fileName,
        runs: m.up.runMode.kind === "none" ? "statement-by-statement" : "transaction",
      },
      down: m.down
        ? {
          file: m.down.fileName,
          runs: m.down.runMode.kind === "none" ? "statement-by-statement" : "transaction",
        }
        : null,
      checksum: m.checksum,
    })),
    warnings: r.warnings,
    problems: r.problems.map((p) => ({
      code: p.code,
      message: p.message,
      hint: p.hint ?? null,
      file: p.file ?? null,
      line: p.line ?? null,
    })),
    database: r.hasDb
      ? {
        checked: r.problems.length === 0,
        problems: r.dbProblems.map((p) => ({
          kind: p.kind,
          version: String(p.version),
          message: p.message,
        })),
      }
      : null,
  };
}

/** `--format`: true for github; throws `USAGE` for anything but text or github, or with --json. */
function parseFormat(format: string | undefined, json: boolean): boolean {
  if (format === undefined || format === "text") return false;
  if (format !== "github") {
    throw new StrataError("USAGE", `Cannot use --format "${format}": no such format`, {
      hint: 'Use "text" (the default) or "github"',
    });
  }
  if (json) {
    throw new StrataError("USAGE", "Cannot use --format github with --json", {
      hint: "Choose one: --json for programs, --format github for GitHub Actions annotations",
    });
  }
  return true;
}

/**
 * GitHub Actions workflow commands, one per problem and warning:
 * `::error file=DIR/FILE,line=N,title=CODE::message` (file and line when
 * known), escaped as GitHub's toolkit escapes them.
 */
function githubAnnotations(r: Report, dir: string): string {
  const data = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const prop = (s: string) => data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  const base = dir.replace(/^\.\//, "").replace(/\/+$/, "");
  const lines: string[] = [];
  for (const p of r.problems) {
    const props = [
      ...(p.file ? [`file=${prop(`${base}/${p.file}`)}`] : []),
      ...(p.line ? [`line=${p.line}`] : []),
      ...(p.column ? [`col=${p.column}`] : []),
      `title=${prop(p.code)}`,
    ];
    lines.push(`::error ${props.join(",")}::${data(p.message + (p.hint ? ` (${p.hint})` : ""))}`);
  }
  for (const w of r.warnings) lines.push(`::warning::${data(w)}`);
  for (const p of r.dbProblems) lines.push(`::error title=${prop(p.kind)}::${data(p.message)}`);
  return lines.length ? lines.join("\n") + "\n" : "";
}
