/**
 * The one error class of strata, its closed set of codes, and the mapping from
 * code to process exit code (DESIGN.md, "Output and exit codes").
 *
 * @module
 */

/** Every code a StrataError can carry. Each is listed in the README's error table. */
export type ErrorCode =
  // exit 1: a migration's SQL failed
  | "MIGRATION_FAILED"
  | "BOOKKEEPING_FAILED"
  // exit 130 / 143: stopped by a signal (rolled back, lock released)
  | "INTERRUPTED_BY_SIGINT"
  | "INTERRUPTED_BY_SIGTERM"
  | "INTERNAL"
  // exit 2: usage errors
  | "USAGE"
  | "UNKNOWN_COMMAND"
  | "NO_DATABASE"
  | "BAD_DATABASE_URL"
  | "BAD_TABLE_NAME"
  | "UNKNOWN_TARGET"
  | "WRONG_DIRECTION"
  | "IRREVERSIBLE"
  // exit 2: invalid migration files
  | "DIR_NOT_FOUND"
  | "DIR_UNREADABLE"
  | "DIR_NOT_WRITABLE"
  | "FILE_EXISTS"
  | "BAD_FILE_NAME"
  | "DUPLICATE_VERSION"
  | "INVALID_TEXT"
  | "HEADER_UNKNOWN_KEY"
  | "HEADER_BAD_VALUE"
  | "HEADER_DUPLICATE_KEY"
  | "HEADER_MISPLACED"
  | "SETTING_REFUSED"
  | "REVISES_MISMATCH"
  | "SQL_UNTERMINATED"
  | "PSQL_FEATURE"
  | "RUN_MODE_REFUSED"
  | "FILES_INVALID"
  | "IMPORT_UNCONVERTIBLE"
  | "NO_MIGRATIONS"
  | "ENV_UNSET"
  // exit 3: the environment is not ready
  | "CONNECTION_FAILED"
  | "AUTH_FAILED"
  | "SSL_UNAVAILABLE"
  | "LOCK_TIMEOUT"
  | "READ_ONLY"
  | "PERMISSION_DENIED"
  | "TOOL_FAILED"
  // exit 4: the database disagrees with the files
  | "DRIFT"
  | "OUT_OF_ORDER"
  | "INTERRUPTED_MIGRATION"
  | "TABLE_FORMAT"
  | "SCHEMA_DRIFT"
  | "SQUASH_MISMATCH"
  | "ADOPT_MISMATCH"
  // exit 6: lint (or upgrade --lint) found a finding of error severity
  | "LINT_FAILED";

const EXIT_CODES: Readonly<Record<ErrorCode, number>> = {
  MIGRATION_FAILED: 1,
  BOOKKEEPING_FAILED: 1,
  INTERRUPTED_BY_SIGINT: 130,
  INTERRUPTED_BY_SIGTERM: 143,
  INTERNAL: 1,
  USAGE: 2,
  UNKNOWN_COMMAND: 2,
  NO_DATABASE: 2,
  BAD_DATABASE_URL: 2,
  BAD_TABLE_NAME: 2,
  UNKNOWN_TARGET: 2,
  WRONG_DIRECTION: 2,
  IRREVERSIBLE: 2,
  DIR_NOT_FOUND: 2,
  DIR_UNREADABLE: 2,
  DIR_NOT_WRITABLE: 2,
  FILE_EXISTS: 2,
  BAD_FILE_NAME: 2,
  DUPLICATE_VERSION: 2,
  INVALID_TEXT: 2,
  HEADER_UNKNOWN_KEY: 2,
  HEADER_BAD_VALUE: 2,
  HEADER_DUPLICATE_KEY: 2,
  HEADER_MISPLACED: 2,
  SETTING_REFUSED: 2,
  REVISES_MISMATCH: 2,
  SQL_UNTERMINATED: 2,
  PSQL_FEATURE: 2,
  RUN_MODE_REFUSED: 2,
  FILES_INVALID: 2,
  IMPORT_UNCONVERTIBLE: 2,
  NO_MIGRATIONS: 2,
  ENV_UNSET: 2,
  CONNECTION_FAILED: 3,
  AUTH_FAILED: 3,
  SSL_UNAVAILABLE: 3,
  LOCK_TIMEOUT: 3,
  READ_ONLY: 3,
  PERMISSION_DENIED: 3,
  TOOL_FAILED: 3,
  DRIFT: 4,
  OUT_OF_ORDER: 4,
  INTERRUPTED_MIGRATION: 4,
  TABLE_FORMAT: 4,
  SCHEMA_DRIFT: 4,
  SQUASH_MISMATCH: 4,
  ADOPT_MISMATCH: 4,
  LINT_FAILED: 6,
};

/** What a failed run applied and did not, as data (goose's PartialError). */
export interface PartialResult {
  readonly direction: "up" | "down";
  /** Versions that finished before the failure (as written in the file names). */
  readonly applied: readonly string[];
  /** The version that failed or was stopped, if any. */
  readonly failed: string | null;
  /** What became of it: rolled back (nothing remains), interrupted (marked), or never started. */
  readonly failedState: "rolled back" | "interrupted" | "not started" | null;
  /** Versions that were planned after it and did not run. */
  readonly notRun: readonly string[];
  /** True when every step ran in one transaction, which was rolled back as a whole. */
  readonly singleTransaction: boolean;
}

/** Where an error points: a file and, when known, a 1-based line and column. */
export interface ErrorOptions {
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  /** Further lines shown under the message (a list of problems, a caret snippet). */
  readonly details?: readonly string[];
  /** For a failed run: what was and was not applied. */
  readonly partial?: PartialResult;
  readonly cause?: unknown;
}

/** The only error class strata throws on purpose; `code` is stable, `message` is for people. */
export class StrataError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly details: readonly string[];
  readonly partial?: PartialResult;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StrataError";
    this.code = code;
    this.hint = options.hint;
    this.file = options.file;
    this.line = options.line;
    this.column = options.column;
    this.details = options.details ?? [];
    this.partial = options.partial;
  }
}

/** The process exit code for an error code (DESIGN.md's table); 1 for anything unknown. */
export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code] ?? 1;
}

/**
 * Render an error for a person: the message, its details, the hint and, with
 * `verbose`, the chain of causes. Never includes stack traces unless verbose.
 */
export function describeError(err: unknown, options: { verbose?: boolean } = {}): string {
  if (!(err instanceof StrataError)) {
    const text = err instanceof Error ? err.message : String(err);
    return options.verbose && err instanceof Error && err.stack ? err.stack : text;
  }
  const lines = [`error[${err.code}]: ${err.message}`];
  for (const d of err.details) lines.push(`  ${d}`);
  if (err.hint) lines.push(`hint: ${err.hint}`);
  if (options.verbose) {
    let cause = err.cause;
    while (cause !== undefined) {
      lines.push(`caused by: ${cause instanceof Error ? cause.message : String(cause)}`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  }
  return lines.join("\n");
}
