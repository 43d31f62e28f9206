/**
 * Open a `Db` for a target. Each driver is imported only here, on demand, so
 * commands that never connect do not pay for loading it, and server commands
 * never load the embedded database.
 *
 * @module
 */

import type { ServerDriver } from "../core/config.ts";
import { type DatabaseTarget, isEmbedded } from "../core/database_url.ts";
import type { Db } from "../core/types.ts";

export type { ServerDriver } from "../core/config.ts";

/** How to open a database. */
export interface OpenOptions {
  /** Called with each NOTICE/WARNING the server sends. */
  readonly onNotice?: (message: string) => void;
  /** How long to wait for another process's hold on an embedded data directory (default 60 s). */
  readonly lockWaitMs?: number;
  /** Told once when the wait for an embedded data directory starts. */
  readonly onWait?: (message: string) => void;
  /** strata's cache folder (the embedded database's seed); undefined or null: no cache. */
  readonly cacheDir?: string | null;
  /** The driver for a server target (default `wire`); ignored for an embedded one. */
  readonly driver?: ServerDriver;
}

/** Open a server connection or an embedded database (lazily where the driver allows). */
export async function openDb(target: DatabaseTarget, options: OpenOptions = {}): Promise<Db> {
  if (isEmbedded(target)) {
    const { createPgliteDb } = await import("./pglite.ts");
    return await createPgliteDb(target, options);
  }
  if (options.driver === "postgresjs") {
    const { createPostgresDb } = await import("./postgres.ts");
    return createPostgresDb(target, options);
  }
  const { createWireDb } = await import("./wire.ts");
  return createWireDb(target, options);
}
