/**
 * The values of a connection's numeric and enumerated settings, from a URL
 * parameter or a libpq variable: port, sslmode and connect_timeout. Each
 * parser names the origin of a bad value. Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";

/** libpq's sslmode values. */
export type SslMode = "disable" | "allow" | "prefer" | "require" | "verify-ca" | "verify-full";

const SSL_MODES: readonly SslMode[] = [
  "disable",
  "allow",
  "prefer",
  "require",
  "verify-ca",
  "verify-full",
];
/** A TCP port, 1 to 65535. */
export function parsePort(value: string, origin: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) {
    throw new StrataError("BAD_DATABASE_URL", `Cannot use port "${value}" from ${origin}`, {
      hint: "A port is a number from 1 to 65535",
    });
  }
  return port;
}

/** One of libpq's sslmode values. */
export function parseSslMode(value: string, origin: string): SslMode {
  if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  throw new StrataError("BAD_DATABASE_URL", `Cannot use sslmode "${value}" from ${origin}`, {
    hint: `sslmode is one of ${SSL_MODES.join(", ")}`,
  });
}

/** Whole seconds, at least 1; 10 when not given. */
export function parseConnectTimeout(value: string | undefined, origin: string): number {
  if (value === undefined || value === "") return 10;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new StrataError(
      "BAD_DATABASE_URL",
      `Cannot use connect_timeout "${value}" from ${origin}`,
      {
        hint: "connect_timeout is a whole number of seconds",
      },
    );
  }
  return n;
}
