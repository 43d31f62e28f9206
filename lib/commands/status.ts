/**
 * `status [--exit-code]`: where the database is, what is pending, and every
 * problem found. Never creates or changes anything.
 *
 * @module
 */

import { currentVersion, findAllProblems, type StateProblem, versionLabel } from "../core/state.ts";
import type { Migration } from "../core/types.ts";
import type { OptionValues, STATUS_OPTIONS } from "./options.ts";
import { type CommandContext } from "./context.ts";
import { loadDir, readStateOnly, requireStepFiles } from "./load.ts";

/** The status as data: the `--json` document of `status`, and the library API's result. */
export interface StatusReport {
  /** The current version as written in its file name; null at base. */
  readonly current: string | null;
  /** The last migration's version; null when there are none. */
  readonly head: string | null;
  readonly applied: number;
  readonly pending: readonly string[];
  readonly problems: readonly {
    readonly kind: StateProblem["kind"];
    readonly version: string;
    readonly message: string;
    /** For `interrupted`: which way the migration was going. */
    readonly direction?: "up" | "down";
  }[];
}

/** Print the status; with `--exit-code` exit 4 on problems, 5 when migrations are pending. */
export async function runStatus(
  ctx: CommandContext,
  options: OptionValues<typeof STATUS_OPTIONS>,
): Promise<number> {
  const { report, migrations, current, rows, pending, problems } = await collectStatus(ctx);
  if (ctx.json) {
    ctx.io.stdout(JSON.stringify(report) + "\n");
  } else {
    ctx.io.stdout(humanStatus(migrations, current, rows.length, pending, problems));
  }
  if (!options["exit-code"]) return 0;
  return problems.length > 0 ? 4 : pending.length > 0 ? 5 : 0;
}

/**
 * Load the files and read the state (creating nothing): the report, and the
 * parts the human output is made of. Throws StrataError.
 */
export async function collectStatus(ctx: CommandContext) {
  const migrations = await loadDir(ctx, { env: "none", lazy: true });
  const { rows, edited } = await readStateOnly(ctx, migrations);
  const done = new Set(rows.map((r) => r.version));
  const pending = migrations.filter((m) => !done.has(m.version));
  // The files an upgrade would run must parse, as loading them all used to check.
  requireStepFiles(ctx, pending.map((migration) => ({ kind: "up", migration })));
  const problems: StateProblem[] = findAllProblems(migrations, rows, edited);
  const current = currentVersion(rows);
  const report: StatusReport = {
    current: current === null ? null : versionLabel(migrations, current),
    head: migrations.at(-1)?.versionText ?? null,
    applied: rows.filter((r) => r.state === "applied").length,
    pending: pending.map((m) => m.versionText),
    problems: problems.map((p) => ({ ...p, version: versionLabel(migrations, p.version) })),
  };
  return { report, migrations, current, rows, pending, problems };
}

function humanStatus(
  migrations: readonly Migration[],
  current: bigint | null,
  appliedCount: number,
  pending: readonly Migration[],
  problems: readonly StateProblem[],
): string {
  const m = migrations.find((x) => x.version === current);
  const list = (xs: readonly Migration[]) =>
    xs.length > 10
      ? `${xs.slice(0, 5).map((x) => x.versionText).join(", ")}, … ${xs.at(-1)!.versionText}`
      : xs.map((x) => x.versionText).join(", ");
  const lines = [
    `current:  ${versionLabel(migrations, current)}${m ? `  ${m.message}` : ""}`,
    `head:     ${migrations.at(-1)?.versionText ?? "(no migrations)"}`,
    `applied:  ${appliedCount}`,
    `pending:  ${pending.length}${pending.length ? ` (${list(pending)})` : ""}`,
    problems.length ? `problems: ${problems.length}` : "problems: none",
    ...problems.map((p) => `  - ${p.message}`),
  ];
  return lines.join("\n") + "\n";
}
