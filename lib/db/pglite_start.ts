/**
 * Start PGlite fast: initialising a data directory (initdb, in WebAssembly)
 * takes seconds, so the first start writes the fresh data directory as a
 * tarball into strata's cache folder (one per PGlite version), and later
 * starts load it instead (a few hundred milliseconds).
 *
 * What the seed holds is made small, since every start reads and unpacks
 * it: the WAL is switched to a new segment and checkpointed, and the
 * segment's unused 16 MB cut off (`core/seed_tar.ts`); the template
 * databases are dropped (a single-database engine never connects to a
 * database it creates, so `CREATE DATABASE` has no use there). Every
 * instance runs with 16 MB of shared buffers instead of 128 MB: PostgreSQL
 * zeroes them at start, a tenth of the start-up time and most of the memory.
 *
 * @module
 */

import { PGlite, type PGliteOptions } from "@electric-sql/pglite";
import { isWholeTar, trimWalSegments } from "../core/seed_tar.ts";

/** The PGlite version in deno.json's import map; the cache file is named after it. */
export const PGLITE_VERSION = "0.5.16";

/** The seed's format; a change makes older seeds be ignored (and left to `rm`). */
const SEED_FORMAT = 2;

/** PGlite's own start parameters, and the smaller buffer pool. */
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

/** Extra parameters of the instance that writes the seed: the old WAL segment is removed, not renamed. */
const SEEDING_PARAMS = [...START_PARAMS, "-c", "wal_recycle=off"];

/**
 * The seed as PGlite reads it (`arrayBuffer()`, `type`), without the copies
 * a `Blob` makes; read from disk while PGlite compiles and starts, and
 * refused (PGlite's start fails, so the seed is replaced) unless it is a
 * whole tarball.
 */
function seedBlob(bytes: Promise<Uint8Array>): Blob {
  const buffer = async () => {
    const data = await bytes;
    if (!isWholeTar(data)) throw new Error("The cached seed is damaged");
    return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
      ? data.buffer
      : data.slice().buffer;
  };
  return { type: "application/x-tar", arrayBuffer: buffer } as unknown as Blob;
}

/** How to start an embedded database. */
export interface StartOptions {
  /** The data directory (NodeFS), or null for memory. */
  readonly dataDir: string | null;
  /** strata's cache folder, or null for no cache. */
  readonly cacheDir: string | null;
  readonly parsers: PGliteOptions["parsers"];
}

/** The cache file of this PGlite version in `cacheDir`. */
export function seedPath(cacheDir: string): string {
  return `${cacheDir.replace(/\/+$/, "")}/pglite-${PGLITE_VERSION}-seed-${SEED_FORMAT}.tar`;
}

function exists(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile || info.isDirectory;
  } catch {
    return false;
  }
}

/** The seed, read from disk while PGlite compiles and starts. */
function readSeed(cacheDir: string | null): Blob | null {
  if (cacheDir === null || !exists(seedPath(cacheDir))) return null;
  const bytes = Deno.readFile(seedPath(cacheDir));
  bytes.catch(() => {}); // Seen by PGlite when it asks; never unhandled.
  return seedBlob(bytes);
}

/**
 * Write the fresh database's data directory as the seed, atomically (a
 * temporary file renamed into place), best effort: a cache that cannot be
 * written only costs speed.
 */
async function writeSeed(pg: PGlite, cacheDir: string): Promise<void> {
  const path = seedPath(cacheDir);
  // Unique per writer: threads of one process (parallel test workers) share a pid.
  const temp = `${path}.${Deno.pid}.${crypto.randomUUID()}.tmp`;
  try {
    Deno.mkdirSync(cacheDir, { recursive: true });
    for (const template of ["template0", "template1"]) {
      await pg.exec(`ALTER DATABASE ${template} WITH ALLOW_CONNECTIONS false IS_TEMPLATE false`);
      await pg.exec(`DROP DATABASE ${template}`);
    }
    await pg.query("SELECT pg_switch_wal()");
    await pg.exec("CHECKPOINT");
    const dump = await pg.dumpDataDir("none");
    Deno.writeFileSync(temp, trimWalSegments(new Uint8Array(await dump.arrayBuffer())));
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
 * Start PGlite: from the seed when the database is new
 * (memory, or a data directory that does not exist yet), or by opening the
 * existing data directory. A seed that fails to load is deleted and the
 * database initialised afresh.
 */
export async function startPglite(options: StartOptions): Promise<PGlite> {
  const isNew = options.dataDir === null || !exists(options.dataDir);
  const from = isNew ? readSeed(options.cacheDir) : null;
  const base: PGliteOptions = {
    parsers: options.parsers,
    startParams: START_PARAMS,
  };
  if (options.dataDir !== null) base.dataDir = options.dataDir;
  if (from !== null) {
    try {
      return await PGlite.create({ ...base, loadDataDir: from });
    } catch {
      removeQuietly(options.cacheDir === null ? null : seedPath(options.cacheDir));
      removeQuietly(options.dataDir);
    }
  }
  const seeding = isNew && options.cacheDir !== null && options.dataDir === null;
  const pg = await PGlite.create(seeding ? { ...base, startParams: SEEDING_PARAMS } : base);
  if (seeding && options.cacheDir !== null) await writeSeed(pg, options.cacheDir);
  return pg;
}
