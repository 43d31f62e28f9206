/**
 * `Db` over PostgreSQL's wire protocol on Deno's own APIs (`Deno.connect`,
 * `Deno.startTls`, Web Crypto): no node-compatibility layer to load, which
 * is most of what a connecting command pays at start-up with postgres.js.
 * One session for the object's lifetime, so session settings and the
 * advisory lock live as long as it; calls run one at a time, in order.
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import type { Db, TransactionStatus } from "../core/types.ts";
import { extendedQuery, simpleQuery, terminateMessage } from "./wire_codec.ts";
import { encodeParam } from "./wire_values.ts";
import { closedError, lostError } from "./connection_errors.ts";
import { isStatementError } from "./wire_errors.ts";
import { isDbServerError } from "../core/db_error.ts";
import { exchange, type NoticeSink, openSession, type Session, watchIdle } from "./wire_session.ts";
import { sendCancelRequest } from "./wire_socket.ts";

/** Options for opening a server connection. */
export interface WireDbOptions {
  /** Called with each NOTICE/WARNING the server sends, as `"<severity>: <message>"`. */
  readonly onNotice?: (message: string) => void;
}

const STATUS: Readonly<Record<string, TransactionStatus>> = { I: "idle", T: "open", E: "failed" };

/**
 * Create a `Db` for a PostgreSQL server. Nothing is sent until the first
 * call; connection failures surface from that call as StrataErrors
 * (`CONNECTION_FAILED`, `AUTH_FAILED`, `SSL_UNAVAILABLE`) naming
 * `conn.display`, and the next call tries to connect again. Once a session
 * existed and was lost, it never reconnects: a call during which the server
 * ended the session throws the server's FATAL error (a `DbServerError`, e.g.
 * 57P01), or `CONNECTION_FAILED` when the socket just dropped; a session that
 * ended between calls is noticed while idle; every later call throws
 * `CONNECTION_FAILED` at once. After `close()` every call throws
 * `CONNECTION_FAILED`.
 */
export function createWireDb(conn: ConnectionOptions, options: WireDbOptions = {}): Db {
  const notice = noticeSink(options.onNotice);
  const keeper = createSessionKeeper(conn, notice);
  return {
    async query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = []) {
      // Checked before sending: either would make a malformed message and end the session.
      if (params.length > 65535) throw new RangeError("query(): more than 65535 parameters");
      if (text.includes("\0")) throw new TypeError("query(): the text holds a NUL character");
      const message = extendedQuery(text, params.map(encodeParam));
      const rows = await keeper.run((s) => exchange(s, message, { extended: true, notice }));
      return rows as T[];
    },
    async runScript(text: string) {
      if (text.includes("\0")) throw new TypeError("runScript(): the text holds a NUL character");
      const message = simpleQuery(text);
      await keeper.run((s) => exchange(s, message, { extended: false, notice }));
    },
    transactionStatus() {
      return keeper.run((s) => Promise.resolve(STATUS[s.status] ?? "idle"));
    },
    async cancel() {
      const key = keeper.runningKey();
      if (key) await sendCancelRequest(conn, key);
    },
    close: () => keeper.close(),
  };
}

function noticeSink(onNotice: ((message: string) => void) | undefined): NoticeSink {
  return (fields) => {
    try {
      onNotice?.(`${fields.V ?? fields.S ?? "NOTICE"}: ${fields.M ?? ""}`);
    } catch {
      // A failing callback must not leave a response half read: the session would be unusable.
    }
  };
}

/**
 * Holds the one session: connects on first use, runs calls one at a time in
 * order, and remembers a loss or a close so that every later call fails fast.
 */
function createSessionKeeper(conn: ConnectionOptions, notice: NoticeSink) {
  const k: KeeperState = {
    conn,
    notice,
    session: null,
    connecting: null,
    lost: null,
    closed: false,
    busy: false,
  };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    /** Run `work` after every earlier call; a failure other than an ERROR loses the session. */
    run<T>(work: (s: Session) => Promise<T>): Promise<T> {
      const result = queue.then(() => runNow(k, work));
      queue = result.catch(() => {});
      return result;
    },
    /** The BackendKeyData of a session with a call running, else null (nothing to cancel). */
    runningKey(): { pid: number; secret: number } | null {
      return k.busy && !k.lost && !k.closed ? k.session?.key ?? null : null;
    },
    /** Terminate and close, bounded in time; never throws. */
    close: () => closeKeeper(k),
  };
}

/** The keeper's session or the connect under way, and whether it is lost or closed. */
interface KeeperState {
  readonly conn: ConnectionOptions;
  readonly notice: NoticeSink;
  session: Session | null;
  connecting: Promise<Session> | null;
  lost: unknown;
  closed: boolean;
  /** A call is running on the session (so there is something to cancel, and no idle watch). */
  busy: boolean;
}

/** The session, opened once; a failed attempt is forgotten so that the next call tries again. */
function connect(k: KeeperState): Promise<Session> {
  k.connecting ??= openSession(k.conn, k.notice).then((s) => {
    if (k.closed) s.transport.close();
    return k.session = s;
  }, (err) => {
    k.connecting = null;
    throw err;
  });
  return k.connecting;
}

/** Remember the first loss and drop the socket: no later call reconnects. */
function loseSession(k: KeeperState, s: Session, err: unknown): void {
  k.lost ??= err;
  s.transport.close();
}

/** Run `work` on the session now (connecting first when needed), or fail fast. */
async function runNow<T>(k: KeeperState, work: (s: Session) => Promise<T>): Promise<T> {
  if (k.closed) throw closedError(k.conn);
  if (k.lost) throw lostError(k.conn, k.lost);
  const s = k.session ?? await connect(k);
  k.busy = true;
  try {
    return await work(s);
  } catch (err) {
    if (isStatementError(err)) throw err;
    loseSession(k, s, err);
    // The server's own FATAL error (57P01 when terminated) is this call's error, so
    // that the caller can say which statement it ended; a dropped socket is a loss.
    throw isDbServerError(err) ? err : lostError(k.conn, err);
  } finally {
    k.busy = false;
    if (!k.lost && !k.closed) watchIdle(s, k.notice, (err) => loseSession(k, s, err));
  }
}

/** Terminate (unless a call is running or the session is lost) and close; never throws. */
async function closeKeeper(k: KeeperState): Promise<void> {
  if (k.closed) return;
  k.closed = true;
  const s = k.session ?? await settleWithin(k.connecting, 3000);
  if (!s) return;
  if (!k.busy && !k.lost) await settleWithin(s.transport.write(terminateMessage()), 1000);
  s.transport.close();
}

/** Wait for `pending` at most `ms`; its value, or null on timeout or failure. Never throws. */
async function settleWithin<T>(pending: Promise<T> | null, ms: number): Promise<T | null> {
  if (!pending) return null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      pending,
      new Promise<null>((resolve) => timer = setTimeout(() => resolve(null), ms)),
    ]);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
