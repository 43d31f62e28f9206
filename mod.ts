/**
 * strata as a library, for Deno programs and their test suites: the CLI's
 * work as functions that take one options object, return plain data and
 * throw `StrataError` (its `code` is the one in README's error table).
 *
 * ```ts
 * import { migrate, status } from "./mod.ts";
 *
 * await migrate({ databaseUrl: "postgres://app@localhost/app", dir: "migrations" });
 * const s = await status({ databaseUrl: "postgres://app@localhost/app", dir: "migrations" });
 * ```
 *
 * The exported surface is this file, and is kept small (README: Library API).
 *
 * @module
 */

export { downgrade, dryRun, migrate, status, verify } from "./lib/commands/library.ts";
export type {
  DatabaseOptions,
  DowngradeOptions,
  DryRunOptions,
  MigrateOptions,
  MigrateResult,
  MigrationText,
  SourceOptions,
  VerifyOptions,
} from "./lib/commands/library.ts";
export type { StatusReport } from "./lib/commands/status.ts";
export type { VerifyReport } from "./lib/commands/verify_report.ts";
/** The name `VerifyReport` had before 2026-11-30; kept so library code that used it compiles. */
export type { VerifyReport as VerifyResult } from "./lib/commands/verify_report.ts";
export { StrataError } from "./lib/core/errors.ts";
export type { ErrorCode, PartialResult } from "./lib/core/errors.ts";
