/**
 * `squash --through VERSION`: one baseline migration equivalent to every
 * migration up to VERSION, proven before anything is written: the old chain
 * and the baseline are each replayed on a fresh scratch database and their
 * snapshots (schema and every table's rows) must be equal. Then the old
 * pairs move to `squashed/` and the baseline takes VERSION's place.
 *
 * @module
 */

import { cleanDump, renderBaselineFile } from "../core/baseline.ts";
import { StrataError } from "../core/errors.ts";
import { parseMigrationFile } from "../core/files.ts";
import { diffSnapshots, type Snapshot } from "../core/snapshot_diff.ts";
import { normalizeSnapshot } from "../core/snapshot_normalize.ts";
import type { Migration } from "../core/types.ts";
import { dumpDatabase } from "../db/dump.ts";
import { takeSnapshot } from "../db/snapshot.ts";
import type { CommandContext } from "./context.ts";
import { loadDir } from "./load.ts";
import type { OptionValues, SQUASH_OPTIONS } from "./options.ts";
import { replayOn, type Scratch, withScratch } from "./scratch.ts";

/** The folder, inside the migrations directory, that receives the squashed pairs. */
const SQUASHED_DIR = "squashed";

/** Write (or, with `--dry-run`, print) the baseline; exit 0, or throw `SQUASH_MISMATCH`. */
export async function runSquash(
  ctx: CommandContext,
  options: OptionValues<typeof SQUASH_OPTIONS>,
): Promise<number> {
  const migrations = await loadDir(ctx);
  const covered = coveredBy(migrations, options.through);
  const through = covered.at(-1)!;
  const chain = await replay(ctx, options["scratch-url"], covered, { dump: true });
  const text = renderBaselineFile(cleanDump(chain.dump!.sql), {
    through: through.versionText,
    covered: covered.map((m) => m.versionText),
    created: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    dumper: chain.dump!.dumper,
  });
  const name = `${through.versionText}_baseline.up.sql`;
  const baseline = await asMigration(name, text, through);
  const proof = await replay(ctx, options["scratch-url"], [baseline], { dump: false });
  refuseDifferences(chain.snapshot, proof.snapshot, name);
  if (options["dry-run"]) {
    ctx.io.stdout(text);
    return 0;
  }
  const moved = writeSquash(ctx.dir, { name, text, covered });
  ctx.io.stdout(
    `Wrote ${name}: one baseline for ${covered.length} migrations (${covered[0].versionText} to ` +
      `${through.versionText}), proven equal on ${chain.display}; moved ${moved} files to ` +
      `${SQUASHED_DIR}/.\nA fresh database runs only the baseline; one at or past ` +
      `${through.versionText} records it on its next upgrade without running it.\n`,
  );
  return 0;
}

function coveredBy(migrations: readonly Migration[], through: string | undefined): Migration[] {
  if (through === undefined || !/^\d+$/.test(through)) {
    throw new StrataError(
      "USAGE",
      `Cannot squash: --through needs a version, got "${through ?? ""}"`,
      {
        hint: "Say which migrations to squash, e.g. strata squash --through 0042",
      },
    );
  }
  const covered = migrations.filter((m) => m.version <= BigInt(through));
  if (!covered.some((m) => m.version === BigInt(through))) {
    throw new StrataError("UNKNOWN_TARGET", `Cannot squash through ${through}: no such version`, {
      hint: `Known versions: ${migrations.map((m) => m.versionText).join(", ") || "none"}`,
    });
  }
  return covered;
}

/** The baseline as strata will load it (so it is refused now if strata would refuse it later). */
async function asMigration(name: string, text: string, through: Migration): Promise<Migration> {
  const up = parseMigrationFile({ name, bytes: new TextEncoder().encode(text) }, "up");
  const { checksumOf } = await import("../core/checksum.ts");
  return {
    ...through,
    name: "baseline",
    message: "baseline",
    checksum: await checksumOf(up),
    up,
    down: null,
  };
}

/** Run `migrations` on a fresh scratch database; its snapshot (schema and data) and, if asked, a dump. */
async function replay(
  ctx: CommandContext,
  url: string | undefined,
  migrations: readonly Migration[],
  options: { dump: boolean },
): Promise<
  { snapshot: Snapshot; display: string; dump?: Awaited<ReturnType<typeof dumpDatabase>> }
> {
  return await withScratch(ctx, url, async (scratch: Scratch) => {
    await replayOn(ctx, scratch.db, { migrations });
    const snapshot = await takeSnapshot(scratch.db, ctx.table, { data: true });
    const dump = options.dump
      ? await dumpDatabase(scratch.db, scratch.target, ctx.table)
      : undefined;
    return { snapshot, display: scratch.display, dump };
  });
}

function refuseDifferences(chain: Snapshot, baseline: Snapshot, name: string): void {
  const differences = diffSnapshots(normalizeSnapshot(chain), normalizeSnapshot(baseline));
  if (differences.length === 0) return;
  throw new StrataError(
    "SQUASH_MISMATCH",
    `Cannot squash: "${name}" would not give the same database as the migrations it replaces`,
    {
      details: differences.map((d) => `- ${d.line}`),
      hint: "pg_dump does not carry these over (database settings, for example). Squash " +
        "through an earlier version, or keep the migrations that make them; nothing was written",
    },
  );
}

/** Move the covered pairs into `squashed/` and write the baseline; returns how many files moved. */
function writeSquash(
  dir: string,
  squash: { name: string; text: string; covered: readonly Migration[] },
): number {
  const base = dir.replace(/\/+$/, "");
  const files = squash.covered.flatMap((m) =>
    [m.upFileName, m.downFileName].filter((f): f is string => f !== null)
  );
  Deno.mkdirSync(`${base}/${SQUASHED_DIR}`, { recursive: true });
  for (const f of files) {
    if (exists(`${base}/${SQUASHED_DIR}/${f}`)) {
      throw new StrataError("FILE_EXISTS", `Cannot squash: "${SQUASHED_DIR}/${f}" already exists`, {
        hint: "A file of that name was squashed before; move it away first; nothing was changed",
      });
    }
  }
  const temp = `${base}/.${squash.name}.tmp`;
  Deno.writeTextFileSync(temp, squash.text);
  for (const f of files) Deno.renameSync(`${base}/${f}`, `${base}/${SQUASHED_DIR}/${f}`);
  Deno.renameSync(temp, `${base}/${squash.name}`);
  return files.length;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
