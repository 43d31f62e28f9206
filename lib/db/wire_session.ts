/**
 * One session's protocol: open it (socket, StartupMessage, authentication,
 * up to the first ReadyForQuery) and run an extended query or a simple
 * script on it up to the next ReadyForQuery, keeping the last status byte
 * and BackendKeyData (ParameterStatus is read past: strata asks the server
 * what it needs). No policy about lost sessions:
 * that is wire.ts.
 * https://www.postgresql.org/docs/current/protocol-flow.html
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import { isDbServerError } from "../core/db_error.ts";
import { authenticate } from "./wire_auth.ts";
import {
  type BackendMessage,
  type Column,
  copyFail,
  createCursor,
  createMessageReader,
  type MessageReader,
  parseDataRow,
  parseFields,
  parseRowDescription,
  startupMessage,
} from "./wire_codec.ts";
import { isStatementError, serverError, socketError, timeoutError } from "./wire_errors.ts";
import { startupError } from "./connection_errors.ts";
import { openTransport, type Transport } from "./wire_socket.ts";

/** Receives each NoticeResponse's fields. */
export type NoticeSink = (fields: Record<string, string>) => void;

/** One live session: its socket, the server's key for cancelling, and what it reported. */
export interface Session {
  readonly transport: Transport;
  readonly reader: MessageReader;
  /** BackendKeyData: process id and secret key, for CancelRequest. */
  key: { pid: number; secret: number } | null;
  /** The last ReadyForQuery status byte: I idle, T in a block, E in a failed block. */
  status: string;
  /** The read `watchIdle` started between calls; the next call takes it over. */
  idle: Promise<BackendMessage> | null;
}

/**
 * Connect, start up and authenticate, until the first ReadyForQuery, within
 * `connectTimeoutSeconds`. Throws StrataErrors only.
 */
export async function openSession(
  conn: ConnectionOptions,
  notice: NoticeSink,
): Promise<Session> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), conn.connectTimeoutSeconds * 1000);
  let transport: Transport | null = null;
  const stop = () => transport?.close();
  deadline.signal.addEventListener("abort", stop, { once: true });
  try {
    transport = await openTransport(conn, deadline.signal);
    return await startSession(transport, conn, notice);
  } catch (err) {
    transport?.close();
    if (deadline.signal.aborted) throw timeoutError(conn);
    if (isDbServerError(err)) throw startupError(err, conn);
    throw socketError(err, conn);
  } finally {
    clearTimeout(timer);
    deadline.signal.removeEventListener("abort", stop);
  }
}

async function startSession(
  transport: Transport,
  conn: ConnectionOptions,
  notice: NoticeSink,
): Promise<Session> {
  const reader = createMessageReader((buffer) => transport.read(buffer));
  const s: Session = {
    transport,
    reader,
    key: null,
    status: "I",
    idle: null,
  };
  await transport.write(startupMessage({
    user: conn.user,
    database: conn.database,
    application_name: conn.applicationName ?? "strata",
    client_encoding: "UTF8",
    // libpq's `options` (e.g. -c search_path=app): session defaults that RESET ALL returns to.
    ...(conn.options ? { options: conn.options } : {}),
  }));
  const nextAuth = async (): Promise<Uint8Array> => {
    const m = await nextMessage(s, notice);
    if (m.type === "R") return m.body;
    if (m.type === "E") throw serverError(parseFields(m.body));
    throw new Error(`unexpected message "${m.type}" during authentication`);
  };
  await authenticate(await nextAuth(), { conn, send: (b) => transport.write(b), nextAuth });
  while (true) {
    const m = await nextMessage(s, notice);
    if (m.type === "K") {
      const cursor = createCursor(m.body);
      s.key = { pid: cursor.int32(), secret: cursor.int32() };
    } else if (m.type === "Z") {
      s.status = String.fromCharCode(m.body[0]);
      return s;
    } else if (m.type === "E") {
      throw serverError(parseFields(m.body));
    }
  }
}

/**
 * The next message that needs the caller. NoticeResponse is handed on,
 * ParameterStatus and NotificationResponse are read past; a FATAL or PANIC ErrorResponse
 * is thrown (the server closes the session after it), an ERROR one returned.
 */
async function nextMessage(
  s: Session,
  notice: NoticeSink,
): Promise<BackendMessage> {
  while (true) {
    const idle = s.idle;
    s.idle = null;
    const m = await (idle ?? s.reader.next());
    if (m.type === "N") notice(parseFields(m.body));
    else if (m.type === "E") {
      const err = serverError(parseFields(m.body));
      if (!isStatementError(err)) throw err;
      return m;
    } else if (m.type !== "A" && m.type !== "S") return m;
  }
}

/**
 * Read between calls, so that a session the server ends while idle
 * (pg_terminate_backend, a shutdown: a FATAL ErrorResponse, then the end of
 * the stream) is known before the next call is sent: `onEnd` gets the FATAL
 * error or the socket error. Notices are handed on and ParameterStatus read
 * past as they come. A call that starts meanwhile takes the pending read over. Does
 * nothing while a read is already pending.
 */
export function watchIdle(s: Session, notice: NoticeSink, onEnd: (err: unknown) => void): void {
  if (s.idle) return;
  const read = s.reader.next();
  s.idle = read;
  read.then((m) => {
    if (s.idle !== read) return;
    s.idle = null;
    if (m.type === "N") notice(parseFields(m.body));
    else if (m.type !== "A" && m.type !== "S") {
      const err = m.type === "E"
        ? serverError(parseFields(m.body))
        : new Error(`unexpected message "${m.type}" between calls`);
      return onEnd(err);
    }
    watchIdle(s, notice, onEnd);
  }, (err) => {
    if (s.idle === read) onEnd(err);
  });
}

/**
 * Send `message` (an extended query, or a simple-protocol script) and read
 * the response up to ReadyForQuery. Returns the rows of an `extended` query
 * (a script's rows are skipped); throws the first ERROR once the session is
 * ready again, and a FATAL one (or a socket error) at once.
 */
export async function exchange(
  s: Session,
  message: Uint8Array,
  options: { extended: boolean; notice: NoticeSink },
): Promise<Record<string, unknown>[]> {
  await s.transport.write(message);
  return await readResults(s, options);
}

async function readResults(
  s: Session,
  options: { extended: boolean; notice: NoticeSink },
): Promise<Record<string, unknown>[]> {
  let columns: Column[] = [];
  let rows: Record<string, unknown>[] = [];
  let failure: unknown = null;
  while (true) {
    const m = await nextMessage(s, options.notice);
    if (m.type === "T" && options.extended) {
      columns = parseRowDescription(m.body);
      rows = [];
    } else if (m.type === "D" && options.extended) {
      rows.push(parseDataRow(m.body, columns));
    } else if (m.type === "E") {
      failure ??= serverError(parseFields(m.body));
    } else if (m.type === "G") {
      // A script's COPY … FROM STDIN: there is no client data to send, so fail it cleanly.
      const reason = "strata does not send COPY data (COPY FROM STDIN)";
      await s.transport.write(copyFail(reason, { extended: options.extended }));
    } else if (m.type === "Z") {
      s.status = String.fromCharCode(m.body[0]);
      if (failure) throw failure;
      return rows;
    }
  }
}
