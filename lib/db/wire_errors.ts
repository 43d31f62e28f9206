/**
 * The wire driver's errors, mapped the way `db/postgres_errors.ts` maps
 * postgres.js's: ErrorResponse fields → `DbServerError`; startup and
 * authentication failures and socket failures → StrataErrors naming
 * `conn.display` (which is already redacted). A lost or closed session
 * throws the errors of `connection_errors.ts`, shared with postgres.js. No
 * message here ever holds the password: messages are built from the
 * server's text, the display string and fixed words.
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import {
  createDbServerError,
  type DbServerError,
  isDbServerError,
  parsePosition,
} from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import { SOCKET_FAILURES } from "./connection_errors.ts";

/** Socket-level failures in words, by error code (Deno's `err.code`, or the driver's own). */
const CONNECTION_CODES: Readonly<Record<string, string>> = {
  ...SOCKET_FAILURES,
  EPIPE: "connection reset by the server",
};

/** An ErrorResponse (fields keyed by their one-letter code) as a `DbServerError`. */
export function serverError(fields: Readonly<Record<string, string>>): DbServerError {
  return createDbServerError({
    sqlstate: fields.C ?? "XX000",
    message: fields.M ?? "unknown server error",
    detail: fields.D,
    hint: fields.H,
    position: parsePosition(fields.P),
    where: fields.W,
    severity: fields.V ?? fields.S,
  });
}

/** True for an error the server sent that leaves the session usable (severity ERROR). */
export function isStatementError(err: unknown): err is DbServerError {
  return isDbServerError(err) && err.severity !== "FATAL" && err.severity !== "PANIC";
}

/** A socket failure while connecting (refused, not found, reset, timed out) as CONNECTION_FAILED. */
export function socketError(err: unknown, conn: ConnectionOptions): StrataError {
  if (err instanceof StrataError) return err;
  const e = err as { code?: string; message?: string };
  const lookupFailed = /failed to lookup address|name or service not known/i.test(e?.message ?? "");
  const code = lookupFailed ? "ENOTFOUND" : e?.code;
  const reason = (code && CONNECTION_CODES[code]) ?? e?.message ?? String(err);
  return new StrataError("CONNECTION_FAILED", `Cannot connect to ${conn.display}: ${reason}`, {
    hint: "Check the host and port, and that the server is running",
    cause: err,
  });
}

/** The connection attempt ran past `connectTimeoutSeconds`. */
export function timeoutError(conn: ConnectionOptions): StrataError {
  return socketError({ code: "CONNECT_TIMEOUT" }, conn);
}

/** SSL was required (or verification asked for) and no secure connection could be made. */
export function sslUnavailable(
  conn: ConnectionOptions,
  why: string,
  cause?: unknown,
): StrataError {
  return new StrataError(
    "SSL_UNAVAILABLE",
    `Cannot connect to ${conn.display}: sslmode=${conn.sslmode} but no secure connection could be made`,
    {
      details: [why],
      hint: "The server may not support SSL, or its certificate did not verify. strata never " +
        "falls back to plaintext when SSL is required",
      cause,
    },
  );
}

/** What authentication needed and the driver could not give, as AUTH_FAILED. */
export function authError(conn: ConnectionOptions, why: string, hint?: string): StrataError {
  return new StrataError("AUTH_FAILED", `Cannot connect to ${conn.display}: ${why}`, {
    hint: hint ?? "Check the user name and password (the password is never printed)",
  });
}
