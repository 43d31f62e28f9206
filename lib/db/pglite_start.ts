/**
 * Start PGlite fast: initialising a data directory (initdb, in WebAssembly)
 * takes seconds, so the first start writes the fresh data directory as a
 * tarball into strata's cache folder (one per PGlite version), and later
 * starts load it instead (a few hundred milliseconds). Also a snapshot of a
 * running database that a new instance starts from (`verify`'s restore).
 *
 * @module
 */

import { PGlite, type PGliteOptions } from "@electric-sql/pglite";

/** The PGlite version in deno.json's import map; the cache file is named after it. */
export const PGLITE_VERSION = "0.5.16";

/** How to start an embedded database. */
export interface StartOptions {
  /** The data directory (NodeFS), or null for memory. */
  readonly dataDir: string | null;
  /** strata's cache folder, or null for no cache. */
  readonly cacheDir: string | null;
  /** Start from this snapshot instead of a fresh database (memory only). */
  readonly snapshot?: Blob;
  readonly parsers: PGliteOptions["parsers"];
}

/** The cache file of this PGlite version in `cacheDir`. */
export function seedPath(cacheDir: string): string {
  return `${cacheDir.replace(/\/+$/, "")}/pglite-${PGLITE_VERSION}-seed.tar`;
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile || Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function readSeed(cacheDir: string | null): Blob | null {
  if (cacheDir === null) return null;
  try {
    return new Blob([Deno.readFileSync(seedPath(cacheDir))]);
  } catch {
    return null;
  }
}

/**
 * Write the fresh database's data directory as the seed, atomically (a
 * temporary file renamed into place), best effort: a cache that cannot be
 * written only costs speed.
 */
async function writeSeed(pg: PGlite, cacheDir: string): Promise<void> {
  const path = seedPath(cacheDir);
  const temp = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.mkdirSync(cacheDir, { recursive: true });
    const dump = await pg.dumpDataDir("none");
    Deno.writeFileSync(temp, new Uint8Array(await dump.arrayBuffer()));
    Deno.renameSync(temp, path);
  } catch {
    try {
      Deno.removeSync(temp);
    } catch {
      // Nothing was written.
    }
  }
}

function removeQuietly(path: string | null): void {
  if (path === null) return;
  try {
    Deno.removeSync(path, { recursive: true });
  } catch {
    // Already gone.
  }
}

/**
 * Start PGlite: from `snapshot`, from the seed when the database is new
 * (memory, or a data directory that does not exist yet), or by opening the
 * existing data directory. A seed that fails to load is deleted and the
 * database initialised afresh.
 */
export async function startPglite(options: StartOptions): Promise<PGlite> {
  const base: PGliteOptions = { parsers: options.parsers };
  if (options.dataDir !== null) base.dataDir = options.dataDir;
  const isNew = options.dataDir === null || !exists(options.dataDir);
  const from = options.snapshot ?? (isNew ? readSeed(options.cacheDir) : null);
  if (from !== null) {
    try {
      return await PGlite.create({ ...base, loadDataDir: from });
    } catch (err) {
      if (options.snapshot) throw err;
      removeQuietly(options.cacheDir === null ? null : seedPath(options.cacheDir));
      removeQuietly(options.dataDir);
    }
  }
  const pg = await PGlite.create(base);
  if (isNew && options.cacheDir !== null && options.dataDir === null) {
    await writeSeed(pg, options.cacheDir);
  }
  return pg;
}
