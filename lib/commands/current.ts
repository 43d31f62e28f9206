/**
 * `current`: the database's current version.
 *
 * @module
 */

import { currentVersion, versionLabel } from "../core/state.ts";
import { type CommandContext } from "./context.ts";
import { loadDir, readStateOnly } from "./load.ts";

/**
 * Print the highest applied version (`base` when none), its message, and
 * `(head)` when no file is pending above it. Never creates anything.
 */
export async function runCurrent(ctx: CommandContext): Promise<number> {
  const migrations = await loadDir(ctx, { lazy: true });
  const { rows } = await readStateOnly(ctx);
  const current = currentVersion(rows);
  if (ctx.json) {
    const m = migrations.find((x) => x.version === current);
    ctx.io.stdout(
      JSON.stringify({
        version: current === null ? null : versionLabel(migrations, current),
        message: m?.message ?? null,
        // The same `head` as `status`: the last migration's version.
        head: migrations.at(-1)?.versionText ?? null,
        atHead: current !== null && migrations.at(-1)?.version === current,
      }) + "\n",
    );
    return 0;
  }
  if (current === null) {
    ctx.io.stdout("base (no migrations applied)\n");
    return 0;
  }
  const m = migrations.find((x) => x.version === current);
  const head = migrations.at(-1);
  const tag = head && head.version === current ? " (head)" : m ? "" : " (file missing)";
  ctx.io.stdout(`${versionLabel(migrations, current)}${m ? `  ${m.message}` : ""}${tag}\n`);
  return 0;
}
