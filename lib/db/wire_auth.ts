/**
 * Answer the server's authentication requests: trust, cleartext password,
 * md5, and SCRAM-SHA-256 (RFC 5802 / RFC 7677, without channel binding: the
 * client never picks SCRAM-SHA-256-PLUS). SCRAM runs on Web Crypto.
 * https://www.postgresql.org/docs/current/sasl-authentication.html
 *
 * The password is only ever written to the socket (hashed, except for the
 * cleartext method the server asked for); no error message includes it.
 *
 * @module
 */

import type { ConnectionOptions } from "../core/database_url.ts";
import { createCursor, passwordMessage, saslInitialResponse, saslResponse } from "./wire_codec.ts";
import { authError } from "./wire_errors.ts";
import { md5Hex } from "./wire_md5.ts";

const encoder = new TextEncoder();
/** Bytes on a plain ArrayBuffer, as Web Crypto takes them. */
type Bytes = Uint8Array<ArrayBuffer>;
const decoder = new TextDecoder();

/** What authentication needs from the connection. */
export interface AuthChannel {
  readonly conn: ConnectionOptions;
  send(bytes: Uint8Array): Promise<void>;
  /** The body of the next Authentication message; throws the server's ErrorResponse as-is. */
  nextAuth(): Promise<Uint8Array>;
}

/**
 * Run the exchange that starts with the Authentication message `first`,
 * until AuthenticationOk. Throws `AUTH_FAILED` for a method strata does not
 * speak, a missing password, or a SCRAM server signature that does not
 * verify; the server's own refusal (28P01) comes through `nextAuth`.
 */
export async function authenticate(first: Uint8Array, channel: AuthChannel): Promise<void> {
  let body = first;
  while (true) {
    const cursor = createCursor(body);
    const kind = cursor.int32();
    if (kind === 0) return;
    if (kind === 3) {
      await channel.send(passwordMessage(requirePassword(channel, "password")));
    } else if (kind === 5) {
      await channel.send(passwordMessage(md5Answer(channel, cursor.bytes(4))));
    } else if (kind === 10) {
      await scramSha256(channel, readMechanisms(cursor.rest()));
    } else {
      throw authError(
        channel.conn,
        `the server asks for an authentication method strata does not support (code ${kind})`,
        "strata supports trust, password, md5 and scram-sha-256 (see pg_hba.conf)",
      );
    }
    body = await channel.nextAuth();
  }
}

function requirePassword(channel: AuthChannel, method: string): string {
  const password = channel.conn.password;
  if (password === undefined || password === "") {
    throw authError(
      channel.conn,
      `the server asks for a password (${method}) and none was given`,
      "Put the password in the URL, PGPASSWORD or --database-url-file (it is never printed)",
    );
  }
  return password;
}

function md5Answer(channel: AuthChannel, salt: Uint8Array): string {
  const password = requirePassword(channel, "md5");
  const inner = md5Hex(encoder.encode(password + channel.conn.user));
  const outer = new Uint8Array([...encoder.encode(inner), ...salt]);
  return "md5" + md5Hex(outer);
}

function readMechanisms(bytes: Uint8Array): string[] {
  return decoder.decode(bytes).split("\0").filter((m) => m !== "");
}

async function scramSha256(channel: AuthChannel, mechanisms: readonly string[]): Promise<void> {
  if (!mechanisms.includes("SCRAM-SHA-256")) {
    throw authError(
      channel.conn,
      `the server offers only SASL mechanisms strata does not support (${mechanisms.join(", ")})`,
    );
  }
  const password = saslPrep(requirePassword(channel, "scram-sha-256"));
  const nonce = toBase64(crypto.getRandomValues(new Uint8Array(18)));
  // The user name is empty: PostgreSQL takes it from the startup message.
  const clientFirstBare = `n=,r=${nonce}`;
  const first = encoder.encode(`n,,${clientFirstBare}`);
  await channel.send(saslInitialResponse("SCRAM-SHA-256", first));
  const serverFirst = expectSasl(channel, await channel.nextAuth(), 11);
  const { r, s, i } = parseAttributes(serverFirst);
  const iterations = Number(i);
  if (!r?.startsWith(nonce) || !s || !Number.isInteger(iterations) || iterations < 1) {
    throw authError(channel.conn, "the server's SCRAM challenge is malformed");
  }
  const salted = await pbkdf2(password, fromBase64(s), iterations);
  const clientKey = await hmac(salted, "Client Key");
  const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
  const finalBare = `c=biws,r=${r}`; // biws: base64 of "n,," (no channel binding)
  const authMessage = `${clientFirstBare},${serverFirst},${finalBare}`;
  const signature = await hmac(storedKey, authMessage);
  const proof = clientKey.map((byte, k) => byte ^ signature[k]);
  await channel.send(saslResponse(encoder.encode(`${finalBare},p=${toBase64(proof)}`)));
  const serverFinal = expectSasl(channel, await channel.nextAuth(), 12);
  const expected = toBase64(await hmac(await hmac(salted, "Server Key"), authMessage));
  if (parseAttributes(serverFinal).v !== expected) {
    throw authError(channel.conn, "the server's SCRAM signature did not verify");
  }
}

function expectSasl(channel: AuthChannel, body: Uint8Array, kind: number): string {
  const cursor = createCursor(body);
  if (cursor.int32() !== kind) {
    throw authError(channel.conn, "the server broke off the SCRAM exchange");
  }
  return decoder.decode(cursor.rest());
}

function parseAttributes(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/**
 * RFC 4013 SASLprep, the parts that change real passwords: non-ASCII spaces
 * become U+0020, "mapped to nothing" characters go, then NFKC. PostgreSQL
 * applies the same when it stores the verifier (and uses the raw bytes when
 * the password is not valid SASLprep, which this leaves as it is).
 */
function saslPrep(password: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(password)) return password;
  return password
    .replace(/[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g, " ")
    .replace(/[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/g, "")
    .normalize("NFKC");
}

async function pbkdf2(password: string, salt: Bytes, iterations: number): Promise<Bytes> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

async function hmac(keyBytes: Bytes, message: string): Promise<Bytes> {
  const key = await crypto.subtle.importKey(
    "raw",
    keyBytes,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(message)));
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Bytes {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
