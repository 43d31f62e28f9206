/**
 * Command-line options as typed data: each command declares its own table,
 * and `pickOptions` turns the parsed values into an object whose type follows
 * the table (`boolean` options are booleans, `string` options are
 * `string | undefined`). Also the options every command accepts, and the
 * tables several commands share.
 *
 * @module
 */

/** One command-line option. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** The argument's name in help (`DIR`). */
  readonly arg?: string;
  readonly help: string;
}

/** A command's options, by long name. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** The values of an option table: booleans for boolean options, strings when given. */
export type OptionValues<T extends OptionTable> = {
  readonly [K in keyof T]: T[K]["type"] extends "boolean" ? boolean : string | undefined;
};

/** The values of `table` out of everything the parser returned. */
export function pickOptions<T extends OptionTable>(
  table: T,
  values: Readonly<Record<string, string | boolean | undefined>>,
): OptionValues<T> {
  const out: Record<string, string | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(table)) {
    out[name] = spec.type === "boolean" ? values[name] === true : values[name] as string;
  }
  return out as OptionValues<T>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  "dir": {
    type: "string",
    arg: "DIR",
    help: "migrations directory (env STRATA_DIR; default ./migrations)",
  },
  "database-url": {
    type: "string",
    arg: "URL",
    help: "postgres://user:pass@host:port/db, or pglite:PATH (env DATABASE_URL)",
  },
  "database-url-file": {
    type: "string",
    arg: "PATH",
    help: "read the URL from a file (env DATABASE_URL_FILE)",
  },
  "table": {
    type: "string",
    arg: "[SCHEMA.]NAME",
    help: "version table (env STRATA_TABLE; default public.strata_migrations)",
  },
  "lock-wait": {
    type: "string",
    arg: "DURATION",
    help: "how long to wait for the migration lock (env STRATA_LOCK_WAIT; default 60s)",
  },
  "wait": {
    type: "boolean",
    help: "retry the first connection until the server accepts (default up to 60s)",
  },
  "wait-timeout": {
    type: "string",
    arg: "DURATION",
    help: "how long --wait retries (implies --wait)",
  },
  "env-file": {
    type: "string",
    arg: "PATH",
    help: "read DATABASE_URL, PG* and STRATA_* from a file (default: ./.env when present)",
  },
  "allow-empty": {
    type: "boolean",
    help: "a missing or empty migrations directory is not an error (default: exit 2)",
  },
  "json": { type: "boolean", help: "machine-readable output (see README: JSON output)" },
  "help": { type: "boolean", short: "h", help: "show help (for a command: strata COMMAND --help)" },
  "version": { type: "boolean", short: "V", help: "print strata's version" },
} as const satisfies OptionTable;

/** Options of the commands that run migrations. */
export const RUN_OPTIONS = {
  "single-transaction": {
    type: "boolean",
    help: "run every migration of this run in one transaction (all or nothing)",
  },
  "lock-retries": {
    type: "string",
    arg: "N",
    help: "retries of a migration that hit its lock-timeout (SQLSTATE 55P03; default 3)",
  },
} as const satisfies OptionTable;

/** Options of the commands that can print their SQL instead of running it. */
export const DRY_RUN_OPTIONS = {
  "dry-run": { type: "boolean", help: "print the exact SQL script instead of running it" },
  "sql": { type: "boolean", help: "same as --dry-run (Alembic's name)" },
  "from": {
    type: "string",
    arg: "VERSION|base",
    help: "with --dry-run: assume the database is at VERSION; makes no connection",
  },
} as const satisfies OptionTable;

/** The escape hatch for edited or missing applied files. */
export const DRIFT_OPTION = {
  "allow-drift": { type: "boolean", help: "proceed although applied files were edited or removed" },
} as const satisfies OptionTable;

/** The escape hatch for pending versions below the current one. */
export const ORDER_OPTION = {
  "allow-out-of-order": { type: "boolean", help: "apply pending versions below the current one" },
} as const satisfies OptionTable;

/** The options of a drift check (`drift`, and `upgrade --check-drift`). */
export const DRIFT_CHECK_OPTIONS = {
  "scratch-url": {
    type: "string",
    arg: "URL",
    help: "where to replay: pglite:memory (default), or a server (a temporary database is made)",
  },
  ignore: {
    type: "string",
    arg: "PATTERNS",
    help:
      "objects managed elsewhere, e.g. 'public.legacy_*,index *_tmp' (also DIR/.strata-drift-ignore)",
  },
  privileges: { type: "boolean", help: "compare grants and owners too" },
} as const satisfies OptionTable;

/** Printing `${NAME}` values in a dry-run script (files with an `env` header). */
export const RESOLVE_ENV_OPTION = {
  "resolve-env": {
    type: "boolean",
    help: "with --dry-run: print the values of ${NAME} variables, not the names",
  },
} as const satisfies OptionTable;

/** `upgrade`'s options. */
export const UPGRADE_OPTIONS = {
  "check-drift": {
    type: "boolean",
    help: "refuse to run when the live schema differs from a replay of the applied migrations",
  },
  ...DRIFT_CHECK_OPTIONS,
  ...DRIFT_OPTION,
  ...ORDER_OPTION,
  ...RUN_OPTIONS,
  ...DRY_RUN_OPTIONS,
  ...RESOLVE_ENV_OPTION,
} as const satisfies OptionTable;

/** `downgrade`'s options (out-of-order applies only to upgrades). */
export const DOWNGRADE_OPTIONS = {
  ...DRIFT_OPTION,
  ...RUN_OPTIONS,
  ...DRY_RUN_OPTIONS,
  ...RESOLVE_ENV_OPTION,
} as const satisfies OptionTable;

/** The values `upgrade` and `downgrade` receive. */
export type MigrateValues =
  & OptionValues<typeof DOWNGRADE_OPTIONS>
  & Partial<OptionValues<typeof UPGRADE_OPTIONS>>;

/** `stamp`'s options. */
export const STAMP_OPTIONS = DRY_RUN_OPTIONS;

/** The values of the commands with a dry run. */
export type DryRunValues = OptionValues<typeof DRY_RUN_OPTIONS>;

/** `status`'s options. */
export const STATUS_OPTIONS = {
  "exit-code": {
    type: "boolean",
    help: "exit 5 when migrations are pending, 4 when there are problems",
  },
} as const satisfies OptionTable;

/** `new`'s options. */
export const NEW_OPTIONS = {
  timestamp: { type: "boolean", help: "number it YYYYMMDDHHMMSS (UTC) instead of the next number" },
} as const satisfies OptionTable;

/** `log`'s options. */
export const LOG_OPTIONS = {
  limit: { type: "string", arg: "N", help: "show the newest N entries (default 50)" },
} as const satisfies OptionTable;

/** `verify`'s options. */
export const VERIFY_OPTIONS = {
  "scratch-url": {
    type: "string",
    arg: "URL",
    help: "pglite:memory (default), or a server where a temporary database is made",
  },
} as const satisfies OptionTable;

/** `squash`'s options. */
export const SQUASH_OPTIONS = {
  through: { type: "string", arg: "VERSION", help: "the last migration the baseline replaces" },
  "dry-run": { type: "boolean", help: "print the baseline instead of writing it" },
  "scratch-url": {
    type: "string",
    arg: "URL",
    help: "where to replay and dump: pglite:memory (default), or a server (uses pg_dump on PATH)",
  },
} as const satisfies OptionTable;

/** `history`'s options. */
export const HISTORY_OPTIONS = {
  verbose: {
    type: "boolean",
    short: "v",
    help: "also files, run mode, checksums, who and how long",
  },
} as const satisfies OptionTable;

/** `validate`'s options. */
export const VALIDATE_OPTIONS = {
  format: {
    type: "string",
    arg: "FORMAT",
    help: "text (default), or github: ::error / ::warning annotations for GitHub Actions",
  },
} as const satisfies OptionTable;

/** A command without options of its own. */
export const NO_OPTIONS = {} as const satisfies OptionTable;
