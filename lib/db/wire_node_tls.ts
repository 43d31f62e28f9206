/**
 * TLS without certificate verification, for sslmode=require (and prefer)
 * when the server's certificate does not chain to a root Deno trusts:
 * `Deno.startTls` always verifies the chain, node:tls can be told not to.
 * Imported only on that path (wire_socket.ts), so every other connection
 * skips loading Deno's node layer, which is what the wire driver saves.
 *
 * @module
 */

import { once } from "node:events";
import { connect as connectTcp, isIP, type Socket } from "node:net";
import { connect as connectTls, type TLSSocket } from "node:tls";
import type { ConnectionOptions } from "../core/database_url.ts";
import { sslRequest } from "./wire_codec.ts";
import { sslUnavailable } from "./wire_errors.ts";
import type { Transport } from "./wire_socket.ts";

/**
 * Connect, send SSLRequest and start TLS accepting any certificate. Throws
 * `SSL_UNAVAILABLE` if the server no longer offers SSL; socket errors as
 * they come. When `signal` aborts, the socket is destroyed.
 */
export async function openUnverifiedTls(
  conn: ConnectionOptions,
  signal: AbortSignal,
): Promise<Transport> {
  const socket: Socket = connectTcp({ host: conn.host, port: conn.port, keepAlive: true });
  const stop = () => socket.destroy(new Error("aborted"));
  signal.addEventListener("abort", stop, { once: true });
  try {
    await once(socket, "connect");
    socket.write(sslRequest());
    const [answer] = await once(socket, "data") as [Uint8Array];
    if (answer[0] !== "S".charCodeAt(0)) {
      throw sslUnavailable(conn, "the server does not support SSL (it answered N to SSLRequest)");
    }
    const secure = connectTls({
      socket,
      rejectUnauthorized: false,
      servername: isIP(conn.host) ? undefined : conn.host,
    });
    await once(secure, "secureConnect");
    return fromTlsSocket(secure);
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    signal.removeEventListener("abort", stop);
  }
}

function fromTlsSocket(socket: TLSSocket): Transport {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", (err: unknown) => {
    failure = err;
    notify();
  });
  async function read(buffer: Uint8Array): Promise<number | null> {
    while (chunks.length === 0) {
      if (failure) throw failure;
      if (ended) return null;
      await new Promise<void>((resolve) => wake = resolve);
    }
    const n = Math.min(chunks[0].length, buffer.length);
    buffer.set(chunks[0].subarray(0, n));
    if (n === chunks[0].length) chunks.shift();
    else chunks[0] = chunks[0].subarray(n);
    return n;
  }
  return {
    read,
    write: (bytes) =>
      new Promise((resolve, reject) => {
        socket.write(bytes, (err?: Error | null) => err ? reject(err) : resolve());
      }),
    close: () => socket.destroy(),
  };
}
