/**
 * Open a `Db` for a target. Each driver is imported only here, on demand, so
 * commands that never connect do not pay for loading it, and server commands
 * never load the embedded database.
 *
 * @module
 */

import { type DatabaseTarget, isEmbedded } from "../core/config.ts";
import type { Db } from "../core/types.ts";

/** Open a server connection or an embedded database (lazily where the driver allows). */
export async function openDb(
  target: DatabaseTarget,
  options: { onNotice?: (message: string) => void } = {},
): Promise<Db> {
  if (isEmbedded(target)) {
    const { createPgliteDb } = await import("./pglite.ts");
    return await createPgliteDb(target, options);
  }
  const { createPostgresDb } = await import("./postgres.ts");
  return createPostgresDb(target, options);
}
