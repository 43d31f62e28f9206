/**
 * Say where a value came from when it came from an env file (`--env-file`,
 * or `./.env`): an error about it names the file, not only the variable.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";

/** The values an env file supplied (those the real environment did not override). */
export interface EnvFileOrigin {
  readonly file: string;
  readonly keys: readonly string[];
}

const CONNECTION_CODES = new Set([
  "BAD_DATABASE_URL",
  "CONNECTION_FAILED",
  "AUTH_FAILED",
  "SSL_UNAVAILABLE",
  "NO_DATABASE",
]);

/**
 * `err` naming the env file: each variable it supplied that the message
 * names becomes `NAME (in FILE)`; a connection error whose settings came
 * from the file gets a detail line saying so. Other errors are returned as
 * they are; a new error is made rather than the old one changed.
 */
export function attributeToEnvFile(err: unknown, origin: EnvFileOrigin | null): unknown {
  if (!(err instanceof StrataError) || !origin || origin.keys.length === 0) return err;
  let message = err.message;
  for (const key of origin.keys) {
    message = message.replace(
      new RegExp(`(?<![\\w-])${key}(?![\\w-])`),
      `${key} (in ${origin.file})`,
    );
  }
  const connectionKeys = origin.keys.filter((k) => /^(DATABASE_URL|DATABASE_URL_FILE|PG)/.test(k));
  const details = message === err.message && CONNECTION_CODES.has(err.code) &&
      connectionKeys.length > 0
    ? [
      ...err.details,
      `the connection settings came from ${origin.file} (${connectionKeys.join(", ")})`,
    ]
    : err.details;
  if (message === err.message && details === err.details) return err;
  return new StrataError(err.code, message, {
    hint: err.hint,
    file: err.file,
    line: err.line,
    column: err.column,
    details,
    partial: err.partial,
    cause: err.cause,
  });
}
