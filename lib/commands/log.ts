/**
 * `log [--limit N]`: the audit trail, newest first. Never creates anything.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { formatDuration } from "../core/output.ts";
import type { LOG_OPTIONS, OptionValues } from "./options.ts";
import { readLog } from "../db/store.ts";
import { parseFileName } from "../core/files.ts";
import { type CommandContext } from "./context.ts";
import { withSession } from "./session.ts";

/** Print the newest N log entries (default 50). */
export async function runLog(
  ctx: CommandContext,
  options: OptionValues<typeof LOG_OPTIONS>,
): Promise<number> {
  const raw = options.limit ?? "50";
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    throw new StrataError("USAGE", `Cannot use --limit "${raw}": not a positive count`, {
      hint: "Give a whole number such as 20",
    });
  }
  const entries = await withSession(
    ctx,
    { writable: false, lock: false },
    (db) => readLog(db, ctx.table, Number(raw)),
  );
  const label = versionLabels(ctx);
  if (ctx.json) {
    ctx.io.stdout(
      JSON.stringify({
        entries: entries.map((e) => ({ ...e, version: label(e.version), at: e.at.toISOString() })),
      }) + "\n",
    );
    return 0;
  }
  if (entries.length === 0) ctx.io.stdout("The log is empty: nothing was applied yet\n");
  for (const e of entries) {
    const at = e.at.toISOString().replace("T", " ").slice(0, 19);
    const took = e.execution_ms === null ? "" : `  ${formatDuration(e.execution_ms)}`;
    const detail = e.detail ? `  (${e.detail})` : "";
    ctx.io.stdout(
      `${at}  ${e.direction.padEnd(5)} ${
        label(e.version)
      }  ${e.name}  ${e.outcome}${took}  by ${e.by}` +
        `${detail}\n`,
    );
  }
  return 0;
}

/**
 * Versions as written in the file names of the migrations directory
 * (`0002`, not `2`); a version without a file (or no readable directory)
 * is shown as the table holds it.
 */
function versionLabels(ctx: CommandContext): <V extends string | null>(version: V) => V {
  const texts = new Map<string, string>();
  try {
    for (const e of Deno.readDirSync(ctx.dir)) {
      const p = parseFileName(e.name);
      if (p) texts.set(String(p.version), p.versionText);
    }
  } catch {
    // No directory here: the log is still worth reading.
  }
  return <V extends string | null>(version: V): V =>
    (version === null || !/^\d+$/.test(version) ? version : texts.get(String(BigInt(version))) ??
      version) as V;
}
