/**
 * The Alembic side of `import --from alembic`: read `alembic.ini` and the
 * revision files, order them (pure, `core/import_alembic.ts`), then ask
 * Alembic itself for each revision's SQL in offline mode, one step at a
 * time: `alembic upgrade PREV:REV --sql` and `alembic downgrade REV:PREV
 * --sql` (PREV is `base` for the first). Alembic runs in the source
 * directory, with strata's environment, so an `env.py` that reads
 * `DATABASE_URL` works as it does for `alembic upgrade`.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import {
  type AlembicRevision,
  convertAlembic,
  orderRevisions,
  parseAlembicIni,
  parseRevisionFile,
  type RevisionSql,
} from "../core/import_alembic.ts";
import type { Conversion } from "../core/import_common.ts";
import { readSourceDir, readSourceFile } from "./source.ts";

/** What the Alembic conversion needs besides the source directory. */
export interface AlembicOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Alembic's version table (`version_table` in env.py); default `alembic_version`. */
  readonly versionTable?: string;
}

/**
 * Convert the Alembic project in `source` (the directory of `alembic.ini`).
 * Returns a conversion with refusals for a branched history or a revision
 * Alembic cannot render offline; throws `TOOL_FAILED` when `alembic` is not
 * on PATH, and `DIR_NOT_FOUND` without `alembic.ini`.
 */
export async function convertAlembicProject(
  source: string,
  options: AlembicOptions,
): Promise<Conversion> {
  const layout = parseAlembicIni(readSourceFile(`${source}/alembic.ini`));
  if (!layout) {
    throw new StrataError(
      "IMPORT_UNCONVERTIBLE",
      `Cannot import from alembic: "${source}/alembic.ini" has no [alembic] script_location`,
      { hint: "Point --source at the directory of your project's alembic.ini" },
    );
  }
  const refusals: string[] = [];
  const revisions: AlembicRevision[] = [];
  for (const location of layout.versionLocations) {
    for (const entry of readSourceDir(`${source}/${location}`, "--source (version_locations)")) {
      if (!entry.name.endsWith(".py") || entry.name.startsWith("__")) continue;
      const r = parseRevisionFile(entry, refusals);
      if (r) revisions.push(r);
    }
  }
  const { ordered, refusals: graph } = orderRevisions(revisions);
  refusals.push(...graph);
  if (refusals.length > 0) return { tool: "alembic", files: [], notes: [], refusals };
  await checkAlembic(options);
  const sql = new Map<string, RevisionSql>();
  for (const [i, r] of ordered.entries()) {
    const prev = i === 0 ? "base" : ordered[i - 1].revision;
    const up = await runAlembic(source, ["upgrade", `${prev}:${r.revision}`], options);
    const down = await runAlembic(source, ["downgrade", `${r.revision}:${prev}`], options);
    for (const [way, out] of [["upgrade", up], ["downgrade", down]] as const) {
      if (out.ok) continue;
      refusals.push(
        `revision ${r.revision} ("${r.fileName}"): alembic ${way} --sql failed: ` +
          out.error,
      );
    }
    sql.set(r.revision, { up: up.text, down: down.text });
  }
  if (refusals.length > 0) return { tool: "alembic", files: [], notes: [], refusals };
  return convertAlembic(ordered, sql, { versionTable: options.versionTable });
}

async function checkAlembic(options: AlembicOptions): Promise<void> {
  try {
    const out = await new Deno.Command("alembic", {
      args: ["--version"],
      env: definedEnv(options.env),
      stdout: "null",
      stderr: "null",
    }).output();
    if (out.success) return;
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      throw new StrataError("TOOL_FAILED", "Cannot import from alembic: no permission to run it", {
        hint: "strata runs alembic for its offline SQL: run strata with --allow-run=alembic " +
          "(deno run) or a binary compiled with it; nothing was written",
      });
    }
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  throw new StrataError("TOOL_FAILED", "Cannot import from alembic: no alembic on PATH", {
    hint: "Install Alembic (Debian: apt-get install alembic; or pip install alembic) together " +
      "with your project's dependencies, so that env.py can be imported; nothing was written",
  });
}

async function runAlembic(
  source: string,
  args: readonly string[],
  options: AlembicOptions,
): Promise<{ ok: boolean; text: string; error: string }> {
  const out = await new Deno.Command("alembic", {
    args: ["-c", "alembic.ini", ...args, "--sql"],
    cwd: source,
    env: definedEnv(options.env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const stderr = dec.decode(out.stderr).trim().split("\n");
  return {
    ok: out.success,
    text: dec.decode(out.stdout),
    error: stderr.filter((l) => !l.startsWith("INFO ")).slice(-3).join(" / "),
  };
}

function definedEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
