/**
 * `import --from TOOL`: two steps, both explicit. Without `--adopt` it
 * converts the tool's migrations in `--source` into strata files in `--dir`
 * (once, on a developer's machine). With `--adopt` it records, in strata's
 * version table, what the tool's own table says is applied (on each database
 * the tool migrated): one transaction under strata's lock, one `adopt` log
 * row per version, the tool's table left untouched.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { compareWithStrata, planAdoption } from "../core/import_adopt.ts";
import { type CheckedConversion, IMPORT_TOOLS, type ImportTool } from "../core/import_common.ts";
import { FOREIGN_TABLES } from "../core/import_tables.ts";
import { parseTableName } from "../core/config.ts";
import { renderAdopt } from "../core/version_rows.ts";
import { closestWord } from "../core/words.ts";
import type { Migration, TableName } from "../core/types.ts";
import { ensureTables, readState, renderEnsureTables } from "../db/store.ts";
import { convertSource, DEFAULT_SOURCE } from "../import/convert.ts";
import { readForeignRows } from "../import/foreign_table.ts";
import { checkTargetDir, writeConverted } from "../import/write.ts";
import { type CommandContext, tableContext } from "./context.ts";
import { loadDir } from "./load.ts";
import { withSession } from "./session.ts";

/** The options `import` receives. */
export interface ImportValues {
  readonly from: string | undefined;
  readonly source: string | undefined;
  readonly adopt: boolean;
  readonly "tool-table": string | undefined;
  readonly "dry-run": boolean;
}

/** Convert (default) or adopt (`--adopt`); see the module comment. */
export async function runImport(ctx: CommandContext, options: ImportValues): Promise<number> {
  const tool = parseTool(options.from);
  if (options.adopt) return await runAdopt(ctx, tool, options);
  if (options["tool-table"] !== undefined && tool !== "alembic") {
    throw new StrataError("USAGE", "Cannot use --tool-table without --adopt", {
      hint: "--tool-table names the other tool's table for import --adopt",
    });
  }
  const source = options.source ?? DEFAULT_SOURCE[tool];
  if (source === undefined) {
    throw new StrataError("USAGE", `Cannot import from ${tool}: --source is required`, {
      hint: `Give the directory of the ${tool} migrations, e.g. --source db/migrations`,
    });
  }
  checkTargetDir(ctx.dir);
  const conv = await convertSource(tool, source, {
    env: ctx.io.env,
    toolTable: options["tool-table"],
  });
  const dryRun = options["dry-run"];
  const written = dryRun ? [] : writeConverted(ctx.dir, conv.files);
  reportConversion(ctx, conv, { dryRun, written: written.length });
  return 0;
}

function parseTool(text: string | undefined): ImportTool {
  const tool = IMPORT_TOOLS.find((t) => t === text?.toLowerCase());
  if (tool) return tool;
  const near = text ? closestWord(text.toLowerCase(), IMPORT_TOOLS) : undefined;
  throw new StrataError(
    "USAGE",
    text === undefined ? "Cannot import: --from is required" : `Cannot import from "${text}"`,
    {
      hint: (near ? `Did you mean "${near}"? ` : "") +
        `--from is one of ${IMPORT_TOOLS.join(", ")}`,
    },
  );
}

function reportConversion(
  ctx: CommandContext,
  conv: CheckedConversion,
  opts: { dryRun: boolean; written: number },
): void {
  const dir = ctx.dir.replace(/\/+$/, "");
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify({
        tool: conv.tool,
        dir,
        dryRun: opts.dryRun,
        migrations: conv.migrations.length,
        files: conv.files.map((f) => ({ name: f.name, source: f.source })),
        notes: conv.notes,
      }) + "\n",
    );
    return;
  }
  const mark = opts.dryRun ? "would write" : "+";
  for (const f of conv.files) ctx.io.stdout(`${mark} ${dir}/${f.name}  (from ${f.source})\n`);
  for (const n of conv.notes) ctx.io.stdout(`note: ${n}\n`);
  const count = `${conv.migrations.length} migration${conv.migrations.length === 1 ? "" : "s"}`;
  ctx.io.stdout(
    opts.dryRun
      ? `Dry run: would import ${count} from ${conv.tool} into ${dir} ` +
        `(${conv.files.length} files); nothing was written\n`
      : `Imported ${count} from ${conv.tool} into ${dir} (${opts.written} files). Next: ` +
        `strata import --from ${conv.tool} --adopt, on each database ${conv.tool} migrated\n`,
  );
}

async function runAdopt(
  ctx: CommandContext,
  tool: ImportTool,
  options: ImportValues,
): Promise<number> {
  if (options.source !== undefined) {
    throw new StrataError("USAGE", "Cannot use --source with --adopt", {
      hint: "Adoption reads the converted files in --dir and the tool's table in the database",
    });
  }
  const toolTable = parseTableName(
    options["tool-table"] ?? FOREIGN_TABLES[tool].defaultName,
    "--tool-table",
  );
  const migrations = await loadDir(ctx);
  const sctx = tableContext(ctx);
  const dryRun = options["dry-run"];
  return await withSession(ctx, { writable: !dryRun, lock: !dryRun }, async (db) => {
    const { rows: strataRows } = await readState(db, ctx.table);
    const foreign = await readForeignRows(db, tool, toolTable);
    const plan = planAdoption(tool, migrations, foreign, displayName(toolTable));
    if (plan.refusals.length > 0) throw adoptRefused(tool, toolTable, plan.refusals);
    const compared = compareWithStrata(plan, strataRows);
    if (compared === "different") throw alreadyAdopted(ctx.table, strataRows.length);
    const script = compared === "same" || plan.rows.length === 0
      ? ""
      : renderAdopt(plan.rows, sctx);
    if (dryRun) {
      const text = script === "" ? "" : await renderEnsureTables(db, sctx) + script;
      ctx.io.stdout(ctx.json ? JSON.stringify({ script: text }) + "\n" : text);
      return 0;
    }
    if (script !== "") {
      await ensureTables(db, sctx);
      await db.runScript(script);
    }
    reportAdoption(ctx, { tool, toolTable, plan, compared, migrations });
    return 0;
  });
}

function displayName(table: TableName): string {
  return `${table.schema}.${table.name}`;
}

function adoptRefused(tool: ImportTool, table: TableName, refusals: readonly string[]) {
  return new StrataError(
    "ADOPT_MISMATCH",
    `Cannot adopt ${tool}'s table "${displayName(table)}": it disagrees with the files`,
    {
      details: refusals.map((r) => `- ${r}`),
      hint: "Bring the files and the database into agreement (restore a missing file, or " +
        `finish the run with ${tool}), then adopt again; nothing was changed`,
    },
  );
}

function alreadyAdopted(table: TableName, count: number) {
  return new StrataError(
    "ADOPT_MISMATCH",
    `Cannot adopt into "${displayName(table)}": it already records ${count} ` +
      `migration${count === 1 ? "" : "s"}, not the ones adoption would record`,
    {
      hint: "Adoption only fills an empty strata version table: check strata history, or " +
        "choose another --table; nothing was changed",
    },
  );
}

function reportAdoption(
  ctx: CommandContext,
  r: {
    tool: ImportTool;
    toolTable: TableName;
    plan: ReturnType<typeof planAdoption>;
    compared: "empty" | "same" | "different";
    migrations: readonly Migration[];
  },
): void {
  const rows = r.compared === "same" ? [] : r.plan.rows;
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify({
        tool: r.tool,
        table: displayName(r.toolTable),
        adopted: rows.map((a) => ({ version: a.migration.versionText, state: a.state })),
        notes: r.plan.notes,
      }) + "\n",
    );
    return;
  }
  for (const n of r.plan.notes) ctx.io.stdout(`note: ${n}\n`);
  for (const a of rows) {
    const m = a.migration;
    ctx.io.stdout(
      a.state === "applied"
        ? `+  ${m.versionText}  ${m.message}  (recorded as applied; no SQL run)\n`
        : `!  ${m.versionText}  ${m.message}  (recorded as interrupted: ${a.detail})\n`,
    );
  }
  const from = `${r.tool}'s table "${displayName(r.toolTable)}"`;
  ctx.io.stdout(
    r.compared === "same"
      ? `Nothing to do: "${displayName(ctx.table)}" already records what ${from} says\n`
      : rows.length === 0
      ? `Nothing to adopt: ${from} records no applied migration\n`
      : `Adopted ${rows.length} migration${rows.length === 1 ? "" : "s"} from ${from} into ` +
        `"${displayName(ctx.table)}"; ${from} was left as it is\n`,
  );
}
