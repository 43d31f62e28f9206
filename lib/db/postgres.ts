/**
 * `Db` over postgres.js: one connection (max: 1) for the whole run, so
 * session settings and the advisory lock live as long as the object. Its
 * errors are mapped in `postgres_errors.ts`.
 *
 * @module
 */

import postgres from "postgres";
import type { ConnectionOptions } from "../core/database_url.ts";
import { isDbServerError } from "../core/db_error.ts";
import type { Db } from "../core/types.ts";
import { closedError, lostError, readRootCert, startupError } from "./connection_errors.ts";
import { isSessionFatal, translateConnectionError } from "./postgres_errors.ts";
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
  const session: SessionState = {
    conn,
    lost: null,
    hadSession: false,
    closed: false,
    inFlight: null,
  };
  const sql = connectPostgresJs(session, options);
  const db: Db = {
    async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      // deno-lint-ignore no-explicit-any
      const values = params as any[];
      const rows = await trackCall(session, () => sql.unsafe(text, values, { prepare: false }));
      return [...rows] as T[];
    },
    async runScript(text: string): Promise<void> {
      await trackCall(session, () => sql.unsafe(text));
    },
    transactionStatus() {
      return probeTransactionStatus((text) => db.query(text));
    },
    async cancel(): Promise<void> {
      try {
        await session.inFlight?.cancel();
      } catch {
        // Cancelling is a request; if it cannot be sent the session end does the same work.
      }
    },
    close: () => closePostgresJs(sql, session),
  };
  return db;
}

/** What one `Db` knows of its session, shared by its calls and postgres.js's close handler. */
interface SessionState {
  readonly conn: ConnectionOptions;
  /**
   * Why the session is gone (terminated, crashed, socket closed), or null.
   * Once set, every later call fails at once: a reconnect would be a new
   * session without the lock, and postgres.js under Deno can hang on a query
   * after the socket ended.
   */
  lost: unknown;
  /** Whether a session was ever established: before that, a failure is a failed connect. */
  hadSession: boolean;
  closed: boolean;
  /** The statement in flight, so that a signal can cancel it. */
  inFlight: { cancel(): unknown } | null;
}

/** postgres.js with one connection, no prepared statements, and strata's startup parameters. */
function connectPostgresJs(session: SessionState, options: PostgresDbOptions): postgres.Sql {
  const conn = session.conn;
  return postgres({
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
      if (session.hadSession && !session.closed) {
        session.lost ??= new Error("the server closed the connection");
      }
    },
  });
}

/**
 * Run one postgres.js call, failing fast once the session is closed or
 * lost, and map its error: the server's FATAL error (57P01 …) is this call's
 * error; a dropped socket is a loss (`CONNECTION_FAILED`).
 */
async function trackCall<T>(
  session: SessionState,
  start: () => PromiseLike<T> & { cancel(): unknown },
): Promise<T> {
  const conn = session.conn;
  if (session.closed) throw closedError(conn);
  if (session.lost) throw lostError(conn, session.lost);
  const pending = start();
  session.inFlight = pending;
  try {
    const result = await pending;
    session.hadSession = true;
    return result;
  } catch (err) {
    const mapped = translateConnectionError(err, conn);
    // A FATAL error before any call succeeded ended the session's start (authentication, a
    // missing database, a full server): a connection failure, not this statement's error.
    if (isDbServerError(mapped) && !session.hadSession && mapped.severity === "FATAL") {
      throw startupError(mapped, conn);
    }
    if (isDbServerError(mapped)) session.hadSession = true;
    if (session.hadSession && isSessionFatal(err)) session.lost ??= err;
    throw session.lost && !isDbServerError(mapped) ? lostError(conn, err) : mapped;
  } finally {
    session.inFlight = null;
  }
}

/** End the connection, bounded in time (quickly when the session is lost); never throws. */
async function closePostgresJs(sql: postgres.Sql, session: SessionState): Promise<void> {
  if (session.closed) return;
  session.closed = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      sql.end({ timeout: session.lost ? 0 : 2 }),
      new Promise((resolve) => timer = setTimeout(resolve, 3000)),
    ]);
  } catch {
    // Closing is best effort: the process is ending either way.
  } finally {
    clearTimeout(timer);
  }
}

function sslOption(
  conn: ConnectionOptions,
): false | "prefer" | "require" | "verify-full" | { ca: string; servername?: string } {
  const ownCa = conn.sslRootCert !== undefined && conn.sslRootCert !== "system";
  if (ownCa && ["require", "verify-ca", "verify-full"].includes(conn.sslmode)) {
    // A private CA (sslrootcert): verified against it, host name included, as libpq does.
    return { ca: readRootCert(conn) };
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
