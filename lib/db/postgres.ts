/**
 * `Db` over postgres.js: one connection (max: 1) for the whole run, so
 * session settings and the advisory lock live as long as the object.
 *
 * @module
 */

import postgres from "postgres";
import type { ConnectionOptions } from "../core/database_url.ts";
import { createDbServerError, isDbServerError, parsePosition } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import type { Db } from "../core/types.ts";
import { probeTransactionStatus } from "./tx_status.ts";

/** Options for opening a server connection. */
export interface PostgresDbOptions {
  /** Called with each NOTICE/WARNING the server sends (RAISE NOTICE in a migration). */
  readonly onNotice?: (message: string) => void;
}

/**
 * Create a `Db` for a PostgreSQL server. Nothing is sent until the first
 * query; connection failures surface from that query as StrataErrors
 * (`CONNECTION_FAILED`, `AUTH_FAILED`, `SSL_UNAVAILABLE`) naming the redacted URL.
 */
export function createPostgresDb(conn: ConnectionOptions, options: PostgresDbOptions = {}): Db {
  // Once the session is gone (terminated, crashed, socket closed) every later call
  // fails at once: a reconnect would be a new session without the lock, and
  // postgres.js under Deno can hang on a query after the socket ended.
  let lost: unknown = null;
  // Whether a session was ever established: before that, a failure is a failed connect.
  let hadSession = false;
  let closed = false;
  const sql = postgres({
    host: conn.host,
    port: conn.port,
    path: conn.socketDir ? `${conn.socketDir}/.s.PGSQL.${conn.port}` : undefined,
    user: conn.user,
    pass: conn.password ?? "",
    database: conn.database,
    ssl: sslOption(conn),
    max: 1,
    prepare: false,
    fetch_types: false,
    idle_timeout: 0,
    max_lifetime: null,
    connect_timeout: conn.connectTimeoutSeconds,
    connection: {
      application_name: conn.applicationName ?? "strata",
      ...(conn.options ? { options: conn.options } : {}),
    },
    onnotice: (n: { severity?: string; message?: string }) =>
      options.onNotice?.(`${n.severity ?? "NOTICE"}: ${n.message ?? ""}`),
    // A session that ends while idle: postgres.js would silently open a new one.
    onclose: () => {
      if (hadSession && !closed) lost ??= new Error("the server closed the connection");
    },
  });
  const wrap = (err: unknown) => translateConnectionError(err, conn);
  // The statement in flight, so that a signal can cancel it.
  let inFlight: { cancel(): unknown } | null = null;
  async function track<T>(start: () => PromiseLike<T> & { cancel(): unknown }): Promise<T> {
    if (closed) throw closedError(conn);
    if (lost) throw lostError(conn, lost);
    const pending = start();
    inFlight = pending;
    try {
      const result = await pending;
      hadSession = true;
      return result;
    } catch (err) {
      const mapped = wrap(err);
      if (isDbServerError(mapped)) hadSession = true;
      if (hadSession && isSessionFatal(err)) lost ??= err;
      // The server's FATAL error (57P01 …) is this call's error; a dropped socket is a loss.
      throw lost && !isDbServerError(mapped) ? lostError(conn, err) : mapped;
    } finally {
      inFlight = null;
    }
  }
  const db: Db = {
    async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      // deno-lint-ignore no-explicit-any
      const rows = await track(() => sql.unsafe(text, params as any[], { prepare: false }));
      return [...rows] as T[];
    },
    async runScript(text: string): Promise<void> {
      await track(() => sql.unsafe(text));
    },
    transactionStatus() {
      return probeTransactionStatus((text) => db.query(text));
    },
    async cancel(): Promise<void> {
      try {
        await inFlight?.cancel();
      } catch {
        // Cancelling is a request; if it cannot be sent the session end does the same work.
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          sql.end({ timeout: lost ? 0 : 2 }),
          new Promise((resolve) => timer = setTimeout(resolve, 3000)),
        ]);
      } catch {
        // Closing is best effort: the process is ending either way.
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return db;
}

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

function isPostgresJsError(err: unknown): err is PostgresJsError {
  return (err as { name?: string })?.name === "PostgresError";
}

/** Errors after which the session no longer exists. */
function isSessionFatal(err: unknown): boolean {
  if (isPostgresJsError(err)) {
    return err.code === "57P01" || err.code === "57P02" || err.code === "57P03";
  }
  return true;
}

function lostError(conn: ConnectionOptions, cause: unknown): StrataError {
  return new StrataError(
    "CONNECTION_FAILED",
    `Cannot continue on ${conn.display}: the connection to the server was lost`,
    {
      hint: "The server ended the session; whatever was in its transaction was rolled back",
      cause,
    },
  );
}

function closedError(conn: ConnectionOptions): StrataError {
  return new StrataError(
    "CONNECTION_FAILED",
    `Cannot continue on ${conn.display}: the connection was closed`,
    { hint: "close() ended this session; open a new one" },
  );
}

function sslOption(
  conn: ConnectionOptions,
): false | "prefer" | "require" | "verify-full" | { ca: string; servername?: string } {
  const ownCa = conn.sslRootCert !== undefined && conn.sslRootCert !== "system";
  if (ownCa && ["require", "verify-ca", "verify-full"].includes(conn.sslmode)) {
    // A private CA (sslrootcert): verified against it, host name included, as libpq does.
    try {
      return { ca: Deno.readTextFileSync(conn.sslRootCert!) };
    } catch (err) {
      throw new StrataError(
        "BAD_DATABASE_URL",
        `Cannot read sslrootcert "${conn.sslRootCert}" for ${conn.display}: ${
          (err as Error).message
        }`,
        { hint: "Give the path of the CA certificate (PEM) that signed the server's certificate" },
      );
    }
  }
  switch (conn.sslmode) {
    case "disable":
      return false;
    case "allow":
    case "prefer":
      return conn.socketDir ? false : "prefer";
    case "require":
      return "require";
    default:
      // verify-ca is checked as verify-full: the stricter of the two.
      return "verify-full";
  }
}

const CONNECTION_CODES: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused (is the server running and listening there?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed (try again later)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset by the server",
  CONNECT_TIMEOUT: "connection timed out",
  CONNECTION_CLOSED: "the server closed the connection",
  CONNECTION_ENDED: "the connection was ended",
  CONNECTION_DESTROYED: "the connection was destroyed",
  ENOENT: "no socket file there (is the server running?)",
};

/**
 * Map connection-level failures to StrataErrors and server errors to
 * `DbServerError`s (authentication and startup failures become StrataErrors).
 */
function translateConnectionError(err: unknown, conn: ConnectionOptions): unknown {
  const e = err as { code?: string; message?: string; name?: string };
  const where = conn.display;
  if (isPostgresJsError(err)) {
    if (e.code === "28P01" || e.code === "28000") {
      return new StrataError("AUTH_FAILED", `Cannot connect to ${where}: ${e.message}`, {
        hint: "Check the user name and password (the password is never printed)",
      });
    }
    if (e.code === "3D000") {
      return new StrataError("CONNECTION_FAILED", `Cannot connect to ${where}: ${e.message}`, {
        hint: `Create the database first (createdb ${JSON.stringify(conn.database)})`,
      });
    }
    if (e.code === "57P03" || e.code === "53300") {
      return new StrataError("CONNECTION_FAILED", `Cannot connect to ${where}: ${e.message}`, {
        hint: "The server is not ready; retry later",
      });
    }
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
