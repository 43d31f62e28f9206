/**
 * The one shape of a server error, whatever the driver: each `Db`
 * implementation maps its library's errors into it, and nothing outside the
 * drivers knows either library's error shape. Pure.
 *
 * @module
 */

const BRAND = Symbol.for("strata.DbServerError");

/** The fields of an ErrorResponse that strata uses. */
export interface DbServerErrorFields {
  /** SQLSTATE, e.g. `42P01`. */
  readonly sqlstate: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character position in the text that was sent, when the server gave one. */
  readonly position?: number;
  /** The server's context lines (`CONTEXT:`), e.g. the PL/pgSQL line. */
  readonly where?: string;
  /** `ERROR`, `FATAL` or `PANIC`. */
  readonly severity?: string;
}

/** An error the server sent: an `Error` carrying the ErrorResponse fields. */
export type DbServerError = Error & DbServerErrorFields & { readonly [BRAND]: true };

/** Make a `DbServerError` (drivers call this; `cause` keeps the library's own error). */
export function createDbServerError(
  fields: DbServerErrorFields,
  options: { cause?: unknown } = {},
): DbServerError {
  const err = new Error(fields.message, { cause: options.cause });
  err.name = "DbServerError";
  return Object.assign(err, {
    sqlstate: fields.sqlstate,
    detail: fields.detail,
    hint: fields.hint,
    position: fields.position,
    where: fields.where,
    severity: fields.severity,
    [BRAND]: true as const,
  });
}

/** True for an error made by `createDbServerError`. */
export function isDbServerError(err: unknown): err is DbServerError {
  return typeof err === "object" && err !== null &&
    (err as Record<symbol, unknown>)[BRAND] === true;
}

/** A 1-based position from the text form a driver received, or undefined. */
export function parsePosition(value: unknown): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
