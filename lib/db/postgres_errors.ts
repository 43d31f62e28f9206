/**
 * postgres.js's errors, mapped for `db/postgres.ts` the way `wire_errors.ts`
 * maps the wire driver's: ErrorResponse fields → `DbServerError`; startup and
 * authentication failures, socket failures and TLS failures → StrataErrors
 * naming `conn.display` (already redacted). A lost or closed session throws
 * the errors of `connection_errors.ts`, shared with the wire driver.
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import { createDbServerError, type DbServerError, parsePosition } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import { SOCKET_FAILURES } from "./connection_errors.ts";

/** postgres.js's server error: a `PostgresError` carrying the ErrorResponse fields. */
interface PostgresJsError {
  name: "PostgresError";
  message: string;
  code: string;
  severity?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
}

/** True for an error the server sent (postgres.js names it `PostgresError`). */
function isPostgresJsError(err: unknown): err is PostgresJsError {
  return (err as { name?: string })?.name === "PostgresError";
}

/** Errors after which the session no longer exists. */
export function isSessionFatal(err: unknown): boolean {
  if (isPostgresJsError(err)) {
    return err.code === "57P01" || err.code === "57P02" || err.code === "57P03";
  }
  return true;
}

/** Socket-level failures in words, by error code (Deno's `err.code`, or postgres.js's own). */
const CONNECTION_CODES: Readonly<Record<string, string>> = {
  ...SOCKET_FAILURES,
  CONNECTION_ENDED: "the connection was ended",
  CONNECTION_DESTROYED: "the connection was destroyed",
};

/**
 * Map connection-level failures to StrataErrors and server errors to
 * `DbServerError`s (authentication and startup failures become StrataErrors).
 * Returns `err` itself when it is neither.
 */
export function translateConnectionError(err: unknown, conn: ConnectionOptions): unknown {
  return isPostgresJsError(err) ? translateServerError(err) : translateSocketError(err, conn);
}

/**
 * A server error as a `DbServerError`. Whether it ended the start of a
 * session (and so is a connection failure) only the caller knows: see
 * `startupError`.
 */
function translateServerError(err: PostgresJsError): DbServerError {
  return createDbServerError({
    sqlstate: err.code,
    message: err.message,
    detail: err.detail,
    hint: err.hint,
    position: parsePosition(err.position),
    where: err.where,
    severity: err.severity,
  }, { cause: err });
}

/**
 * A failure below the protocol: `SSL_UNAVAILABLE` when SSL was required and
 * the handshake or the connection failed, `CONNECTION_FAILED` for a socket
 * error code, else `err` itself.
 */
function translateSocketError(err: unknown, conn: ConnectionOptions): unknown {
  const e = err as { code?: string; message?: string } | null | undefined;
  const where = conn.display;
  const isTls = /tls|ssl|certificate|handshake/i.test(e?.message ?? "");
  if (
    conn.sslmode !== "disable" && conn.sslmode !== "prefer" && conn.sslmode !== "allow" &&
    (isTls || e?.code === "CONNECTION_CLOSED" || e?.code === "ECONNRESET")
  ) {
    return new StrataError(
      "SSL_UNAVAILABLE",
      `Cannot connect to ${where}: sslmode=${conn.sslmode} but no secure connection could be made`,
      {
        hint: "The server may not support SSL, or its certificate did not verify. strata never " +
          "falls back to plaintext when SSL is required",
        cause: err,
      },
    );
  }
  const reason = (e?.code && CONNECTION_CODES[e.code]) ?? e?.message ?? String(err);
  if (e?.code && (CONNECTION_CODES[e.code] || /^E[A-Z]+$/.test(e.code))) {
    return new StrataError("CONNECTION_FAILED", `Cannot connect to ${where}: ${reason}`, {
      hint: "Check the host and port, and that the server is running",
      cause: err,
    });
  }
  return err;
}
