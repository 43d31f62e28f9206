/**
 * `import --from TOOL`'s conversion, end to end except writing: read the
 * source, convert (pure, `core/import_<tool>.ts`), and check that the result
 * loads as strata migrations.
 *
 * @module
 */

import { convertDbmate } from "../core/import_dbmate.ts";
import { convertFlyway } from "../core/import_flyway.ts";
import { convertGolangMigrate } from "../core/import_golang_migrate.ts";
import { convertGoose } from "../core/import_goose.ts";
import {
  checkConversion,
  type CheckedConversion,
  type Conversion,
  type ImportTool,
} from "../core/import_common.ts";
import { convertAlembicProject } from "./alembic.ts";
import { readSourceDir } from "./source.ts";

/** Where each tool keeps its migrations by default (golang-migrate has no default). */
export const DEFAULT_SOURCE: Readonly<Record<ImportTool, string | undefined>> = {
  "alembic": ".",
  "dbmate": "./db/migrations",
  "golang-migrate": undefined,
  "goose": ".",
  "flyway": "./sql",
};

/**
 * Convert `tool`'s migrations in `source`. Throws `IMPORT_UNCONVERTIBLE`
 * listing every refusal, `TOOL_FAILED` when Alembic is needed and missing,
 * and the directory errors of `readSourceDir`.
 */
export async function convertSource(
  tool: ImportTool,
  source: string,
  options: { env: Readonly<Record<string, string | undefined>>; toolTable?: string },
): Promise<CheckedConversion> {
  let conv: Conversion;
  if (tool === "alembic") {
    conv = await convertAlembicProject(source, {
      env: options.env,
      versionTable: options.toolTable,
    });
  } else {
    const entries = readSourceDir(source);
    conv = tool === "dbmate"
      ? convertDbmate(entries)
      : tool === "golang-migrate"
      ? convertGolangMigrate(entries)
      : tool === "goose"
      ? convertGoose(entries)
      : convertFlyway(entries);
  }
  return await checkConversion(conv);
}
