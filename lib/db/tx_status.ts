/**
 * Ask the server where the session's transaction stands, for drivers whose
 * library does not expose the ReadyForQuery status byte.
 *
 * @module
 */

import { isDbServerError } from "../core/db_error.ts";
import type { TransactionStatus } from "../core/types.ts";

/**
 * Inside a transaction block `now()` (the block's start) is earlier than
 * `statement_timestamp()`; in autocommit the two are the same instant. In a
 * failed block every statement fails with SQLSTATE 25P02.
 */
export async function probeTransactionStatus(
  query: (text: string) => Promise<Array<{ open: boolean }>>,
): Promise<TransactionStatus> {
  try {
    const [row] = await query(
      "SELECT pg_catalog.now() OPERATOR(pg_catalog.<) pg_catalog.statement_timestamp() AS open",
    );
    return row.open ? "open" : "idle";
  } catch (err) {
    if (isDbServerError(err) && err.sqlstate === "25P02") return "failed";
    throw err;
  }
}

/**
 * For a driver that knows a transaction block is open: `failed` when the
 * block failed (every statement then fails with SQLSTATE 25P02), else `open`.
 */
export async function probeOpenBlock(
  query: (text: string) => Promise<unknown[]>,
): Promise<"open" | "failed"> {
  try {
    await query("SELECT 1");
    return "open";
  } catch (err) {
    if (isDbServerError(err) && err.sqlstate === "25P02") return "failed";
    throw err;
  }
}
