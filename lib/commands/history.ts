/**
 * `history [--verbose]`: every migration, file or row, with its state.
 *
 * @module
 */

import { compareBig } from "../core/files.ts";
import { formatDuration, paint } from "../core/output.ts";
import type { AppliedRow, Migration } from "../core/types.ts";
import type { HISTORY_OPTIONS, OptionValues } from "./options.ts";
import { type CommandContext } from "./context.ts";
import { loadDir, readStateOnly } from "./load.ts";

type Entry = { version: bigint; migration?: Migration; row?: AppliedRow; edited?: boolean };

/** Print one line per migration: version, state, message, when applied. Never creates anything. */
export async function runHistory(
  ctx: CommandContext,
  options: OptionValues<typeof HISTORY_OPTIONS>,
): Promise<number> {
  const migrations = await loadDir(ctx, { lazy: true });
  const { rows, edited } = await readStateOnly(ctx, migrations);
  const verbose = options.verbose;
  if (ctx.json) {
    const entries = mergeEntries(migrations, rows, edited).map(jsonEntry);
    ctx.io.stdout(JSON.stringify({ migrations: entries }) + "\n");
    return 0;
  }
  for (const e of mergeEntries(migrations, rows, edited)) {
    ctx.io.stdout(formatEntry(e, ctx.color) + "\n");
    if (verbose) ctx.io.stdout(verboseLines(e).map((l) => `        ${l}\n`).join(""));
  }
  const applied = rows.filter((r) => r.state === "applied").length;
  const pending = migrations.filter((m) => !rows.some((r) => r.version === m.version)).length;
  ctx.io.stdout(`${applied} applied, ${pending} pending\n`);
  return 0;
}

function mergeEntries(
  migrations: readonly Migration[],
  rows: readonly AppliedRow[],
  edited: ReadonlySet<bigint>,
): Entry[] {
  const byVersion = new Map<bigint, Entry>();
  for (const m of migrations) byVersion.set(m.version, { version: m.version, migration: m });
  for (const r of rows) {
    const entry = { ...byVersion.get(r.version), version: r.version, row: r };
    byVersion.set(r.version, { ...entry, edited: edited.has(r.version) });
  }
  return [...byVersion.values()].sort((a, b) => compareBig(a.version, b.version));
}

function stateOf(e: Entry): string {
  if (!e.row) return "pending";
  if (e.row.state === "started") return "interrupted";
  if (!e.migration) return "missing";
  return e.edited ? "edited" : "applied";
}

function formatEntry(e: Entry, color: boolean): string {
  const state = stateOf(e);
  const version = e.migration?.versionText ?? String(e.version);
  const message = e.migration?.message ?? e.row?.name ?? "";
  const when = e.row ? `  ${e.row.appliedAt.toISOString().replace("T", " ").slice(0, 19)}` : "";
  const style = state === "applied" ? "green" : state === "pending" ? "dim" : "red";
  return `${version}  ${paint(state.padEnd(11), style, color)} ${message}${when}`;
}

function verboseLines(e: Entry): string[] {
  const lines: string[] = [];
  if (e.migration) {
    lines.push(
      `file: ${e.migration.upFileName}` +
        (e.migration.downFileName
          ? ` / ${e.migration.downFileName}`
          : " (no down file: irreversible)"),
    );
    lines.push(`runs: ${e.migration.up.runMode.reason}`);
    lines.push(`checksum: ${e.migration.checksum}`);
  }
  if (e.row) {
    if (e.migration && e.row.checksum !== e.migration.checksum) {
      lines.push(`applied checksum: ${e.row.checksum}`);
    }
    const took = e.row.executionMs === null ? "" : ` in ${formatDuration(e.row.executionMs)}`;
    lines.push(
      `applied by ${e.row.appliedBy}${took}, order ${e.row.appliedOrder}, strata ${e.row.strataVersion}`,
    );
  }
  return lines;
}

function jsonEntry(e: Entry) {
  return {
    version: e.migration?.versionText ?? String(e.version),
    name: e.migration?.name ?? e.row?.name ?? null,
    message: e.migration?.message ?? null,
    state: stateOf(e),
    file: e.migration?.upFileName ?? null,
    checksum: e.migration?.checksum ?? null,
    appliedChecksum: e.row?.checksum ?? null,
    appliedAt: e.row?.appliedAt.toISOString() ?? null,
    appliedBy: e.row?.appliedBy ?? null,
    executionMs: e.row?.executionMs ?? null,
  };
}
