/**
 * Shared readonly shapes of strata, and `interface Db`, the one seam between
 * strata and a database.
 *
 * @module
 */

import type { Header } from "./header.ts";
import type { Statement } from "./sql_lexer.ts";

/** How a file runs: inside strata's transaction, or statement by statement outside one. */
export interface RunMode {
  readonly kind: "transaction" | "none";
  /** Why, in words, for `validate` and the run's output. */
  readonly reason: string;
  /** The text sent to the server: the file, with a dropped BEGIN/COMMIT wrapper blanked out. */
  readonly body: string;
  /** True when the file's own BEGIN/COMMIT wrapper was dropped. */
  readonly unwrapped: boolean;
  /**
   * For a statement-by-statement file: per statement, the index of the
   * statement that opened the file's own transaction block it runs in (null
   * outside one). Rolling that block back undoes everything from there.
   */
  readonly blockStarts?: readonly (number | null)[];
}

/** One parsed `.up.sql` or `.down.sql` file. */
export interface MigrationFile {
  readonly fileName: string;
  readonly direction: "up" | "down";
  /** The file's text after decoding: BOM stripped, CRLF read as LF. */
  readonly text: string;
  readonly header: Header;
  /** Non-empty statements, in order. */
  readonly statements: readonly Statement[];
  readonly runMode: RunMode;
  /**
   * Values of the variables its `env` header declares, attached when a
   * command runs it (`core/env_subst.ts`); absent: `${NAME}` is sent as written.
   */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * An up file and, when it exists, its down file, paired by version. Loaded
 * lazily (`loadMigrations` with `lazy`), `up`, `down` and `checksum` parse the
 * file on first use and then throw its StrataError; names, versions and
 * `fileHash` are known from the start.
 */
export interface Migration {
  readonly version: bigint;
  /** The version as written in the up file's name (`0007`). */
  readonly versionText: string;
  /** The `<name>` part of the up file's name. */
  readonly name: string;
  readonly upFileName: string;
  /** Null when there is no down file. */
  readonly downFileName: string | null;
  /** The header's message, or the name with `_` as spaces. */
  readonly message: string;
  /** The header's `revises`, if any. */
  readonly revises?: bigint;
  /** The header says `baseline: true` (read without lexing the file). */
  readonly isBaseline: boolean;
  /** `t2:sha256:<hex>` over the up file's tokens and execution-relevant header keys. */
  readonly checksum: string;
  /** `sha256:<hex>` of the up file's bytes, recorded beside the checksum. */
  readonly fileHash?: string;
  readonly up: MigrationFile;
  /** Null when there is no down file: the migration is irreversible. */
  readonly down: MigrationFile | null;
}

/** One row of the version table. */
export interface AppliedRow {
  readonly version: bigint;
  readonly name: string;
  readonly checksum: string;
  /**
   * `applied`; or, for a statement-by-statement migration that never
   * finished, `started` (it was being applied) or `reverting` (its down ran).
   */
  readonly state: "applied" | "started" | "reverting";
  /** For an interrupted row: the 0-based index of the statement that was running. */
  readonly statementIndex: number | null;
  readonly appliedOrder: number;
  readonly appliedAt: Date;
  readonly executionMs: number | null;
  readonly appliedBy: string;
  readonly strataVersion: string;
  /** SHA-256 of the up file's bytes when it was recorded (null before format 2). */
  readonly fileHash: string | null;
}

/** One step of a plan. */
export type Step =
  | { readonly kind: "up"; readonly migration: Migration }
  | { readonly kind: "down"; readonly migration: Migration };

/** What a command will do, computed before anything runs. */
export interface Plan {
  readonly direction: "up" | "down";
  readonly steps: readonly Step[];
  /** The highest applied version before the plan runs (null: base). */
  readonly from: bigint | null;
  /** The highest applied version after it runs (null: base). */
  readonly to: bigint | null;
}

/** A version table location: schema and table, unquoted. */
export interface TableName {
  readonly schema: string;
  readonly name: string;
}

/** Where the session's transaction stands, as the server reports it after each message. */
export type TransactionStatus = "idle" | "open" | "failed";

/**
 * The database seam. Implementations: postgres.js (`db/postgres.ts`) and
 * PGlite (`db/pglite.ts`); both pass `tests/db_conformance_test.ts`.
 *
 * Contract:
 * - One session for the object's lifetime: session settings and advisory
 *   locks persist across calls.
 * - `query` runs one statement with parameters (extended protocol) and
 *   returns its rows; `runScript` runs a multi-statement text in one message
 *   (simple protocol). Both throw a `DbServerError` (core/db_error.ts) for an
 *   error the server sent, with `position` relative to the text, and a
 *   `StrataError` (`CONNECTION_FAILED`, `AUTH_FAILED`, `SSL_UNAVAILABLE`) when
 *   there is no usable session. Once the session is lost every later call
 *   throws `CONNECTION_FAILED` at once: a driver never reconnects, because a
 *   new session would not hold the lock.
 * - `transactionStatus` says whether the session is outside a transaction
 *   block, inside one, or inside one that failed (what a partial run left).
 * - `cancel` asks the server to cancel the running statement (a no-op when
 *   idle, and where the driver cannot); `close` ends the session and never
 *   throws.
 */
export interface Db {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  runScript(text: string): Promise<void>;
  transactionStatus(): Promise<TransactionStatus>;
  cancel(): Promise<void>;
  close(): Promise<void>;
}
