/**
 * What `--dry-run` (alias `--sql`) shares between upgrade, downgrade and
 * stamp: the state to plan from, read without a lock or any change, or
 * assumed from `--from` with no connection at all.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { assumeApplied } from "../core/plan_stamp.ts";
import { renderCreateTables, TABLE_FORMAT } from "../core/version_table.ts";
import type { Migration } from "../core/types.ts";
import type { DryRunValues } from "./options.ts";
import { type CommandContext } from "./context.ts";
import { type DryRunState, readDryRunState } from "./load.ts";

/** True when the command should print its script instead of running it. */
export function isDryRun(options: DryRunValues): boolean {
  const dry = options["dry-run"] || options.sql;
  if (!dry && options.from !== undefined) {
    throw new StrataError("USAGE", "Cannot use --from without --dry-run", {
      hint: "--from VERSION|base says where the database is when printing a script offline",
    });
  }
  return dry;
}

/** The state to plan a dry run from: `--from` (no connection) or a read-only look. */
export async function dryRunState(
  ctx: CommandContext,
  migrations: readonly Migration[],
  from: string | undefined,
): Promise<DryRunState> {
  if (from !== undefined) {
    const rows = assumeApplied(migrations, from);
    const atBase = from.trim().toLowerCase() === "base";
    return {
      exists: !atBase,
      format: atBase ? null : TABLE_FORMAT,
      rows,
      view: { rows, replaced: [] },
      edited: new Set(),
      prepareTables: atBase
        ? renderCreateTables(ctx.table, { schema: true, ifNotExists: true })
        : "",
    };
  }
  return await readDryRunState(ctx, migrations);
}
