/**
 * Open a `Db` for a target. Each driver is imported only here, on demand, so
 * commands that never connect do not pay for loading it, and server commands
 * never load the embedded database.
 *
 * @module
 */

import { type DatabaseTarget, isEmbedded } from "../core/config.ts";
import type { Db } from "../core/types.ts";

/** How to open a database. */
export interface OpenOptions {
  /** Called with each NOTICE/WARNING the server sends. */
  readonly onNotice?: (message: string) => void;
  /** How long to wait for another process's hold on an embedded data directory (default 60 s). */
  readonly lockWaitMs?: number;
  /** Told once when the wait for an embedded data directory starts. */
  readonly onWait?: (message: string) => void;
}

/** Open a server connection or an embedded database (lazily where the driver allows). */
export async function openDb(target: DatabaseTarget, options: OpenOptions = {}): Promise<Db> {
  if (isEmbedded(target)) {
    const { createPgliteDb } = await import("./pglite.ts");
    return await createPgliteDb(target, options);
  }
  const { createPostgresDb } = await import("./postgres.ts");
  return createPostgresDb(target, options);
}
