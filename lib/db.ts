/**
 * Open a `Db` for a connection. The driver module is imported only here, on
 * demand, so commands that never connect do not pay for loading it.
 *
 * @module
 */

import type { ConnectionOptions } from "./config.ts";
import type { Db } from "./types.ts";

/** Open a server connection (lazily: nothing is sent until the first query). */
export async function openDb(
  conn: ConnectionOptions,
  options: { onNotice?: (message: string) => void } = {},
): Promise<Db> {
  const { createPostgresDb } = await import("./db_postgres.ts");
  return createPostgresDb(conn, options);
}
