/**
 * The PostgreSQL frontend/backend protocol 3.0 as bytes: the frontend
 * messages strata sends, a reader that cuts the backend byte stream into
 * messages, and decoders for the backend messages strata reads. No I/O of
 * its own: the reader is given a `read` function.
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 *
 * @module
 */

import { concatBytes } from "../core/bytes.ts";
import { decodeValue } from "./wire_values.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A backend message: its type byte as a character, and its body (after the length word). */
export interface BackendMessage {
  readonly type: string;
  readonly body: Uint8Array;
}

/** A result column: its name and the OID of its type. */
export interface Column {
  readonly name: string;
  readonly typeOid: number;
}

function int16(n: number): Uint8Array {
  const b = new Uint8Array(2);
  new DataView(b.buffer).setInt16(0, n);
  return b;
}

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

function cstring(s: string): Uint8Array {
  const text = encoder.encode(s);
  const b = new Uint8Array(text.length + 1);
  b.set(text);
  return b;
}

/** One message: the type byte (none for startup-phase packets), the length word, the parts. */
function frame(type: string | null, parts: readonly Uint8Array[]): Uint8Array {
  const head = type === null ? 0 : 1;
  const size = parts.reduce((n, p) => n + p.length, 4);
  const out = new Uint8Array(head + size);
  if (type !== null) out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(head, size);
  let at = head + 4;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** StartupMessage for protocol 3.0 with the given parameters. */
export function startupMessage(params: Readonly<Record<string, string>>): Uint8Array {
  const pairs = Object.entries(params).flatMap(([k, v]) => [cstring(k), cstring(v)]);
  return frame(null, [int32(196608), ...pairs, new Uint8Array(1)]);
}

/** SSLRequest: the server answers with one byte, `S` or `N`. */
export function sslRequest(): Uint8Array {
  return frame(null, [int32(80877103)]);
}

/** CancelRequest for the session identified by BackendKeyData. */
export function cancelRequest(pid: number, secret: number): Uint8Array {
  return frame(null, [int32(80877102), int32(pid), int32(secret)]);
}

/** PasswordMessage (cleartext or md5 answer). */
export function passwordMessage(text: string): Uint8Array {
  return frame("p", [cstring(text)]);
}

/** SASLInitialResponse: the chosen mechanism and the client-first message. */
export function saslInitialResponse(mechanism: string, data: Uint8Array): Uint8Array {
  return frame("p", [cstring(mechanism), int32(data.length), data]);
}

/** SASLResponse: the client-final message. */
export function saslResponse(data: Uint8Array): Uint8Array {
  return frame("p", [data]);
}

/** Query (simple protocol): one text that may hold several statements. */
export function simpleQuery(text: string): Uint8Array {
  return frame("Q", [cstring(text)]);
}

/**
 * CopyFail: refuse a COPY FROM STDIN the server started. After an extended
 * query a Sync follows, because the server ignores the Sync sent with the
 * query while it is in copy-in mode and waits for another.
 */
export function copyFail(reason: string, options: { extended: boolean }): Uint8Array {
  const fail = frame("f", [cstring(reason)]);
  return options.extended ? concatBytes([fail, frame("S", [])]) : fail;
}

/** Terminate. */
export function terminateMessage(): Uint8Array {
  return frame("X", []);
}

/**
 * Parse, Bind, Describe (portal), Execute and Sync for one statement on the
 * unnamed statement and portal. Parameters are text, typed 0 (unspecified) so
 * that the SQL's own casts decide; results are requested as text.
 */
export function extendedQuery(text: string, params: readonly (string | null)[]): Uint8Array {
  const parse = frame("P", [
    cstring(""),
    cstring(text),
    int16(params.length),
    ...params.map(() => int32(0)),
  ]);
  const values = params.flatMap((p) => {
    if (p === null) return [int32(-1)];
    const bytes = encoder.encode(p);
    return [int32(bytes.length), bytes];
  });
  const bind = frame("B", [
    cstring(""),
    cstring(""),
    int16(0),
    int16(params.length),
    ...values,
    int16(0),
  ]);
  const describe = frame("D", [Uint8Array.of("P".charCodeAt(0)), cstring("")]);
  const execute = frame("E", [cstring(""), int32(0)]);
  return concatBytes([parse, bind, describe, execute, frame("S", [])]);
}

/** Reads whole backend messages from a byte stream. */
export interface MessageReader {
  /** The next message; throws `{code: "CONNECTION_CLOSED"}` when the stream ends first. */
  next(): Promise<BackendMessage>;
}

/** A reader over `read` (which fills a buffer and returns the count, or null at the end). */
export function createMessageReader(
  read: (buffer: Uint8Array) => Promise<number | null>,
): MessageReader {
  let buffer = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  async function fill(want: number): Promise<void> {
    while (end - start < want) {
      if (start > 0) {
        buffer.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      if (buffer.length < want) {
        const bigger = new Uint8Array(Math.max(want, buffer.length * 2));
        bigger.set(buffer.subarray(0, end));
        buffer = bigger;
      }
      const n = await read(buffer.subarray(end));
      if (n === null) throw closedError();
      end += n;
    }
  }
  return {
    async next() {
      await fill(5);
      const length = new DataView(buffer.buffer, buffer.byteOffset + start + 1, 4).getInt32(0);
      await fill(1 + length);
      const type = String.fromCharCode(buffer[start]);
      const body = buffer.slice(start + 5, start + 1 + length);
      start += 1 + length;
      return { type, body };
    },
  };
}

function closedError(): Error {
  return Object.assign(new Error("the server closed the connection"), {
    code: "CONNECTION_CLOSED",
  });
}

/** Reads big-endian integers and NUL-terminated strings off a message body. */
export function createCursor(body: Uint8Array) {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  return {
    int16(): number {
      at += 2;
      return view.getInt16(at - 2);
    },
    int32(): number {
      at += 4;
      return view.getInt32(at - 4);
    },
    cstring(): string {
      const nul = body.indexOf(0, at);
      const s = decoder.decode(body.subarray(at, nul));
      at = nul + 1;
      return s;
    },
    bytes(n: number): Uint8Array {
      at += n;
      return body.subarray(at - n, at);
    },
    rest(): Uint8Array {
      return body.subarray(at);
    },
  };
}

/** The fields of an ErrorResponse or NoticeResponse, keyed by their one-letter code. */
export function parseFields(body: Uint8Array): Record<string, string> {
  const fields: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const nul = body.indexOf(0, at + 1);
    fields[String.fromCharCode(body[at])] = decoder.decode(body.subarray(at + 1, nul));
    at = nul + 1;
  }
  return fields;
}

/** RowDescription → the columns' names and type OIDs. */
export function parseRowDescription(body: Uint8Array): Column[] {
  const cursor = createCursor(body);
  const count = cursor.int16();
  const columns: Column[] = [];
  for (let i = 0; i < count; i++) {
    const name = cursor.cstring();
    cursor.bytes(6); // table OID, column number
    const typeOid = cursor.int32();
    cursor.bytes(8); // type size, type modifier, format code
    columns.push({ name, typeOid });
  }
  return columns;
}

/** DataRow → an object keyed by column name, each value decoded by its type OID. */
export function parseDataRow(
  body: Uint8Array,
  columns: readonly Column[],
): Record<string, unknown> {
  const cursor = createCursor(body);
  const count = cursor.int16();
  const row: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const length = cursor.int32();
    const column = columns[i];
    row[column.name] = length < 0
      ? null
      : decodeValue(decoder.decode(cursor.bytes(length)), column.typeOid);
  }
  return row;
}
