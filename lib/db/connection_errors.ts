/**
 * Errors both server drivers (`postgres.ts` over postgres.js and the wire
 * driver) throw alike: a session that was lost or closed, a session that the
 * server refused to start, and socket-level failures in words; and the
 * `sslrootcert` file both read. Messages name `conn.display` (already redacted) and
 * fixed words only.
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import type { DbServerError } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";

/** Socket-level failures in words, by error code (Deno's `err.code`, or the driver's own). */
export const SOCKET_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is the server running and listening there?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (try again later)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset by the server",
  CONNECT_TIMEOUT: "connection timed out",
  CONNECTION_CLOSED: "the server closed the connection",
  ENOENT: "no socket file there (is the server running?)",
};

/** Every call after the session ended (terminated, crashed, socket gone) throws this. */
export function lostError(conn: ConnectionOptions, cause: unknown): StrataError {
  return new StrataError(
    "CONNECTION_FAILED",
    `Cannot continue on ${conn.display}: the connection to the server was lost`,
    {
      hint: "The server ended the session; whatever was in its transaction was rolled back",
      cause,
    },
  );
}

/** Every call after `close()` throws this. */
export function closedError(conn: ConnectionOptions): StrataError {
  return new StrataError(
    "CONNECTION_FAILED",
    `Cannot continue on ${conn.display}: the connection was closed`,
    { hint: "close() ended this session; open a new one" },
  );
}

/** An ErrorResponse received before the session was ready, as a StrataError. */
export function startupError(err: DbServerError, conn: ConnectionOptions): StrataError {
  const message = `Cannot connect to ${conn.display}: ${err.message}`;
  if (err.sqlstate === "28P01" || err.sqlstate === "28000") {
    return new StrataError("AUTH_FAILED", message, {
      hint: "Check the user name and password (the password is never printed)",
      cause: err,
    });
  }
  if (err.sqlstate === "3D000") {
    return new StrataError("CONNECTION_FAILED", message, {
      hint: `Create the database first (createdb ${JSON.stringify(conn.database)})`,
      cause: err,
    });
  }
  if (err.sqlstate === "57P03" || err.sqlstate === "53300") {
    return new StrataError("CONNECTION_FAILED", message, {
      hint: "The server is not ready; retry later",
      cause: err,
    });
  }
  return new StrataError("CONNECTION_FAILED", message, {
    hint: "The server refused to start a session",
    cause: err,
  });
}

/** The `sslrootcert` file's PEM text; throws `BAD_DATABASE_URL` when it cannot be read. */
export function readRootCert(conn: ConnectionOptions): string {
  try {
    return Deno.readTextFileSync(conn.sslRootCert!);
  } catch (err) {
    throw new StrataError(
      "BAD_DATABASE_URL",
      `Cannot read sslrootcert "${conn.sslRootCert}" for ${conn.display}: ` +
        ((err as Error)?.message ?? String(err)),
      { hint: "Give the path of the CA certificate (PEM) that signed the server's certificate" },
    );
  }
}
