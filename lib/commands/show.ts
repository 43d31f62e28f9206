/**
 * `show VERSION`: one migration's metadata, how it runs, its SQL and, when a
 * database is configured, when and by whom it was applied.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { describeHeader, type Header } from "../core/header_keys.ts";
import { formatDuration } from "../core/output.ts";
import { versionLabel } from "../core/state.ts";
import type { AppliedRow, Migration, MigrationFile } from "../core/types.ts";
import { type CommandContext } from "./context.ts";
import { loadDir, readStateOnly } from "./load.ts";
import { hasDatabase } from "./session.ts";

/** Print the migration; throws `UNKNOWN_TARGET` for a version without files. */
export async function runShow(ctx: CommandContext, text: string): Promise<number> {
  if (!/^\d+$/.test(text)) {
    throw new StrataError("USAGE", `Cannot show "${text}": not a version`, {
      hint: "Give a version such as 0003 (see strata history)",
    });
  }
  const migrations = await loadDir(ctx, { lazy: true });
  const m = migrations.find((x) => x.version === BigInt(text));
  if (!m) {
    throw new StrataError("UNKNOWN_TARGET", `Cannot show ${text}: no such version`, {
      hint: migrations.length
        ? `Known versions: ${migrations.map((x) => x.versionText).join(", ")}`
        : `No migrations in "${ctx.dir}"`,
    });
  }
  const state = hasDatabase(ctx) ? await readStateOnly(ctx, migrations) : undefined;
  const row = state ? state.rows.find((r) => r.version === m.version) ?? null : undefined;
  const edited = state?.edited.has(m.version) === true;
  // `revises` as written in the file names (0005, not 5), like every version strata prints.
  const revises = (h: Header) =>
    h.revises === undefined ? undefined : versionLabel(migrations, h.revises);
  ctx.io.stdout(
    ctx.json
      ? JSON.stringify(showRecord(m, row, revises)) + "\n"
      : humanShow(m, row, { edited, revises: revises(m.up.header) }),
  );
  return 0;
}

function headerText(h: Header, revises: string | undefined): string {
  const parts = describeHeader(h).map((p) => p.startsWith("revises ") ? `revises ${revises}` : p);
  return parts.join(", ") || "(none)";
}

function appliedText(row: AppliedRow | null | undefined): string {
  if (row === undefined) return "(no database configured)";
  if (row === null) return "not applied";
  const took = row.executionMs === null ? "" : ` in ${formatDuration(row.executionMs)}`;
  const state = row.state === "started"
    ? ` INTERRUPTED at statement ${(row.statementIndex ?? 0) + 1}`
    : "";
  return `${row.appliedAt.toISOString()} by ${row.appliedBy}${took} (strata ${row.strataVersion})${state}`;
}

function humanShow(
  m: Migration,
  row: AppliedRow | null | undefined,
  how: { edited: boolean; revises: string | undefined },
): string {
  const drift = row && how.edited ? `  (applied as ${row.checksum}: edited since)` : "";
  const lines = [
    `version:   ${m.versionText}`,
    `name:      ${m.name}`,
    `message:   ${m.message}`,
    `files:     ${m.up.fileName}, ${m.down?.fileName ?? "(no down file: irreversible)"}`,
    `checksum:  ${m.checksum}${drift}`,
    `header:    ${headerText(m.up.header, how.revises)}`,
    `runs:      up ${m.up.runMode.reason}` + (m.down ? `; down ${m.down.runMode.reason}` : ""),
    `applied:   ${appliedText(row)}`,
    "",
    `-- ${m.up.fileName}`,
    m.up.text.trimEnd(),
  ];
  if (m.down) lines.push("", `-- ${m.down.fileName}`, m.down.text.trimEnd());
  return lines.join("\n") + "\n";
}

function fileRecord(f: MigrationFile, revises: (h: Header) => string | undefined) {
  return {
    file: f.fileName,
    runs: f.runMode.kind === "none" ? "statement-by-statement" : "transaction",
    reason: f.runMode.reason,
    header: { ...f.header, revises: revises(f.header) },
    sql: f.text,
  };
}

function showRecord(
  m: Migration,
  row: AppliedRow | null | undefined,
  revises: (h: Header) => string | undefined,
) {
  return {
    version: m.versionText,
    name: m.name,
    message: m.message,
    checksum: m.checksum,
    up: fileRecord(m.up, revises),
    down: m.down ? fileRecord(m.down, revises) : null,
    applied: row
      ? {
        at: row.appliedAt.toISOString(),
        by: row.appliedBy,
        ms: row.executionMs,
        state: row.state,
        checksum: row.checksum,
      }
      : null,
  };
}
