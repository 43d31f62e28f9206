/**
 * The wire driver's byte stream: TCP or a Unix-domain socket, upgraded to TLS
 * as `conn.sslmode` says, on Deno's own `Deno.connect` / `Deno.startTls`.
 *
 * sslmode rules (libpq's, with strata's verify-ca read as verify-full):
 * - disable: plain.
 * - allow, prefer: SSLRequest on TCP; plain when the server answers N. Plain
 *   on a Unix socket (the server never offers SSL there).
 * - require: SSLRequest; an N is SSL_UNAVAILABLE, never a plaintext fallback.
 *   The certificate is not verified.
 * - verify-ca, verify-full: as require, and the certificate chain and host
 *   name must verify (Deno's trust store, `DENO_CERT`, `DENO_TLS_CA_STORE`,
 *   and the `sslrootcert` file, a private CA, when given).
 * - require with an `sslrootcert` file verifies as verify-full (libpq
 *   verifies the chain when a root certificate file exists).
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import { cancelRequest, sslRequest } from "./wire_codec.ts";
import { readRootCert } from "./connection_errors.ts";
import { sslUnavailable } from "./wire_errors.ts";

/** A byte stream to the server. */
export interface Transport {
  /** Fill `buffer`; the count read, or null at the end of the stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Write all of `bytes`. */
  write(bytes: Uint8Array): Promise<void>;
  /** Close the stream; never throws, and a pending `read` then ends. */
  close(): void;
}

/**
 * Connect and negotiate SSL. Throws `SSL_UNAVAILABLE` as described above;
 * socket failures are thrown as they come (the caller maps them). When
 * `signal` aborts, the socket is closed, so any pending step fails.
 */
export async function openTransport(
  conn: ConnectionOptions,
  signal: AbortSignal,
): Promise<Transport> {
  const ownCa = conn.sslRootCert !== undefined && conn.sslRootCert !== "system";
  const verify = conn.sslmode === "verify-ca" || conn.sslmode === "verify-full" ||
    (conn.sslmode === "require" && ownCa);
  const required = verify || conn.sslmode === "require";
  const caCerts = verify && ownCa ? [readRootCert(conn)] : undefined;
  if (conn.socketDir) {
    if (required) {
      throw sslUnavailable(conn, "SSL is not available over a Unix-domain socket");
    }
    const path = `${conn.socketDir}/.s.PGSQL.${conn.port}`;
    return fromConn(await Deno.connect({ transport: "unix", path }));
  }
  const raw = await Deno.connect({ hostname: conn.host, port: conn.port, signal });
  raw.setKeepAlive(true);
  if (conn.sslmode === "disable") return fromConn(raw);
  const stop = () => closeQuietly(raw);
  signal.addEventListener("abort", stop, { once: true });
  try {
    await writeAll(raw, sslRequest());
    const answer = await readByte(raw);
    if (answer === "N" && !required) return fromConn(raw);
    if (answer === "N") {
      throw sslUnavailable(conn, "the server does not support SSL (it answered N to SSLRequest)");
    }
    if (answer !== "S") {
      throw new Error(`unexpected answer to SSLRequest: ${JSON.stringify(answer)}`);
    }
  } catch (err) {
    closeQuietly(raw);
    throw err;
  } finally {
    signal.removeEventListener("abort", stop);
  }
  return await upgrade(raw, conn, { verify, signal, caCerts });
}

async function upgrade(
  raw: Deno.TcpConn,
  conn: ConnectionOptions,
  options: { verify: boolean; signal: AbortSignal; caCerts?: string[] },
): Promise<Transport> {
  let tls: Deno.TlsConn | null = null;
  const stop = () => closeQuietly(tls ?? raw);
  options.signal.addEventListener("abort", stop, { once: true });
  try {
    tls = await Deno.startTls(raw, {
      hostname: conn.host,
      caCerts: options.caCerts,
      unsafelyDisableHostnameVerification: !options.verify,
    });
    await tls.handshake();
    return fromConn(tls);
  } catch (err) {
    stop();
    const message = (err as Error)?.message ?? String(err);
    const isCertificate = /certificate/i.test(message);
    if (options.signal.aborted) throw err;
    if (options.verify && isCertificate) {
      throw sslUnavailable(conn, `the server's certificate did not verify: ${message}`, err);
    }
    if (options.verify || !isCertificate) {
      throw sslUnavailable(conn, `the TLS handshake failed: ${message}`, err);
    }
  } finally {
    options.signal.removeEventListener("abort", stop);
  }
  // require/prefer encrypt without verifying, as libpq does; Deno.startTls always checks the
  // chain, so a private CA (RDS, Cloud SQL, self-signed) needs node:tls, loaded only here.
  const { openUnverifiedTls } = await import("./wire_node_tls.ts");
  return await openUnverifiedTls(conn, options.signal);
}

/**
 * Ask the server to cancel the statement running in the session `key`
 * names: a CancelRequest on a new connection opened by the same rules, then
 * wait (at most 5 s, or the connect timeout) for the server to close it.
 * Never throws: a cancel is a request, and the server may refuse it silently.
 */
export async function sendCancelRequest(
  conn: ConnectionOptions,
  key: { readonly pid: number; readonly secret: number },
): Promise<void> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), Math.min(conn.connectTimeoutSeconds, 5) * 1000);
  let transport: Transport | null = null;
  const stop = () => transport?.close();
  deadline.signal.addEventListener("abort", stop, { once: true });
  try {
    transport = await openTransport(conn, deadline.signal);
    await transport.write(cancelRequest(key.pid, key.secret));
    await transport.read(new Uint8Array(1));
  } catch {
    // Nothing to report: the caller's statement ends, or not, either way.
  } finally {
    clearTimeout(timer);
    deadline.signal.removeEventListener("abort", stop);
    transport?.close();
  }
}

/** A Transport over a Deno connection. */
function fromConn(c: Deno.Conn): Transport {
  return {
    read: (buffer) => c.read(buffer),
    write: (bytes) => writeAll(c, bytes),
    close: () => closeQuietly(c),
  };
}

async function writeAll(c: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await c.write(bytes.subarray(at));
}

async function readByte(c: Deno.Conn): Promise<string> {
  const one = new Uint8Array(1);
  const n = await c.read(one);
  if (n === null) {
    throw Object.assign(new Error("the server closed the connection"), {
      code: "CONNECTION_CLOSED",
    });
  }
  return String.fromCharCode(one[0]);
}

function closeQuietly(c: Deno.Conn): void {
  try {
    c.close();
  } catch {
    // Already closed, or consumed by startTls: either way nothing is left to release.
  }
}
