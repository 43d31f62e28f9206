/**
 * The command table: each command's arguments, options (declared in
 * `commands/options.ts`, so each command gets its own typed values), help
 * text and handler. Handlers are imported only when their command runs.
 *
 * @module
 */

import type { CommandContext } from "../commands/context.ts";
import {
  DOWNGRADE_OPTIONS,
  DRIFT_CHECK_OPTIONS,
  HISTORY_OPTIONS,
  LOG_OPTIONS,
  NEW_OPTIONS,
  NO_OPTIONS,
  type OptionTable,
  type OptionValues,
  SQUASH_OPTIONS,
  STAMP_OPTIONS,
  STATUS_OPTIONS,
  UPGRADE_OPTIONS,
  VALIDATE_OPTIONS,
  VERIFY_OPTIONS,
} from "../commands/options.ts";
import { LINT_OPTIONS, UPGRADE_LINT_OPTION } from "../core/lint_options.ts";

/** One command: its arguments, options, help and handler. */
export interface CommandSpec<O extends OptionTable = OptionTable> {
  readonly summary: string;
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly options: O;
  readonly details: string;
  /** True for commands that change the database or the files. */
  readonly writes: boolean;
  run(ctx: CommandContext, options: OptionValues<O>, args: readonly string[]): Promise<number>;
}

/** Declare a command; its handler receives values typed by its own option table. */
function command<O extends OptionTable>(spec: CommandSpec<O>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** Every command, by name. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  upgrade: command({
    summary: "apply pending migrations",
    usage: "[TARGET]",
    minArgs: 0,
    maxArgs: 1,
    options: { ...UPGRADE_OPTIONS, ...UPGRADE_LINT_OPTION },
    writes: true,
    details: "TARGET: head (default), a VERSION (7 finds 0007), or +N (the next N).\n" +
      "Each migration runs in its own transaction together with its version-table row.",
    run: async (ctx, options, args) =>
      (await import("../commands/migrate.ts")).runMigrate(ctx, {
        verb: "upgrade",
        options,
        args,
        lint: options.lint,
      }),
  }),
  downgrade: command({
    summary: "revert applied migrations",
    usage: "TARGET",
    // The missing target gets its own message from the command, listing the forms.
    minArgs: 0,
    maxArgs: 1,
    options: DOWNGRADE_OPTIONS,
    writes: true,
    details: "TARGET: a VERSION (it stays applied; everything above it is reverted), -N (the\n" +
      "last N), or base (everything). Refuses before running anything if a migration on\n" +
      "the way has no down file.",
    run: async (ctx, options, args) =>
      (await import("../commands/migrate.ts")).runMigrate(ctx, {
        verb: "downgrade",
        options,
        args,
      }),
  }),
  stamp: command({
    summary: "record a version as current without running SQL",
    usage: "TARGET",
    minArgs: 1,
    maxArgs: 1,
    options: STAMP_OPTIONS,
    writes: true,
    details: "TARGET: head, base, or a VERSION. Afterwards exactly the migrations at or below\n" +
      "TARGET are recorded as applied; prints each row it adds or removes. Also resolves an\n" +
      "interrupted non-transactional migration: stamp its version if it finished, or the one\n" +
      "before it if it did not (the other way round for an interrupted down).",
    run: async (ctx, options, args) =>
      (await import("../commands/stamp.ts")).runStamp(ctx, options, args[0]),
  }),
  status: command({
    summary: "current version, applied and pending counts, and every problem",
    usage: "[--exit-code]",
    minArgs: 0,
    maxArgs: 0,
    options: STATUS_OPTIONS,
    writes: false,
    details: "Problems: edited or missing applied files, out-of-order pending versions,\n" +
      "interrupted migrations. Never creates or changes anything.",
    run: async (ctx, options) => (await import("../commands/status.ts")).runStatus(ctx, options),
  }),
  show: command({
    summary: "metadata and SQL of one migration",
    usage: "VERSION",
    minArgs: 1,
    maxArgs: 1,
    options: NO_OPTIONS,
    writes: false,
    details: "Shows the header, checksum, how it runs, the up and down SQL and, when a\n" +
      "database is configured, when and by whom it was applied.",
    run: async (ctx, _options, args) => (await import("../commands/show.ts")).runShow(ctx, args[0]),
  }),
  new: command({
    summary: "create the next up/down pair with a header",
    usage: "MESSAGE",
    minArgs: 1,
    maxArgs: 1,
    options: NEW_OPTIONS,
    writes: true,
    details: "Numbers by the width already used in the directory (0001 in an empty one),\n" +
      "creates the directory if needed, never overwrites, and prints the two paths.",
    run: async (ctx, options, args) =>
      (await import("../commands/new.ts")).runNew(ctx, options, args[0]),
  }),
  validate: command({
    summary: "check every file (and, with a database, checksums and order)",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    options: VALIDATE_OPTIONS,
    writes: false,
    details: "Lists every problem and warning, and how each file runs. Without a database\n" +
      "configured it checks only the files; with one it also reports drift, missing\n" +
      "files, out-of-order and interrupted migrations. Exit 2 for file problems, 4 for\n" +
      "database disagreements. --format github: one ::error / ::warning line each, for\n" +
      "GitHub Actions annotations on the files.",
    run: async (ctx, options) =>
      (await import("../commands/validate.ts")).runValidate(ctx, options),
  }),
  log: command({
    summary: "the audit trail: every upgrade, downgrade and stamp step",
    usage: "[--limit N]",
    minArgs: 0,
    maxArgs: 0,
    options: LOG_OPTIONS,
    writes: false,
    details: "Newest first. Never creates or changes anything.",
    run: async (ctx, options) => (await import("../commands/log.ts")).runLog(ctx, options),
  }),
  verify: command({
    summary: "prove every down undoes its up, on a scratch database",
    usage: "[--scratch-url URL]",
    minArgs: 0,
    maxArgs: 0,
    options: VERIFY_OPTIONS,
    writes: false,
    details: "For each migration: snapshot the schema, upgrade one, downgrade one, compare\n" +
      "with the snapshot, upgrade one again; then downgrade base and upgrade head.\n" +
      "Reports every down that leaves a difference (by object name) or fails; exit 4.\n" +
      "Irreversible migrations are reported and skipped. Never touches DATABASE_URL.",
    run: async (ctx, options) => (await import("../commands/verify.ts")).runVerify(ctx, options),
  }),
  lint: command({
    summary: "find statements that lock, rewrite or scan busy tables",
    usage: "[--all | VERSION|FILE...] [--trace]",
    minArgs: 0,
    maxArgs: Number.MAX_SAFE_INTEGER,
    options: LINT_OPTIONS,
    writes: false,
    details: "Lints on PostgreSQL's own parser, with what strata knows: how each file runs,\n" +
      "which tables this run creates, the lock-timeout header, the server version. Scope:\n" +
      "the pending files (with a database), --all, or the versions / files named (one run).\n" +
      "--trace runs them on a scratch database and reports the real locks, rewrites and\n" +
      "scans. Exit 6 when a rule of error severity fired (warnings too with --strict).\n" +
      "Rules, suppression (-- lint-ignore: RULE -- reason) and CI use: README, Lint.",
    run: async (ctx, options, args) =>
      (await import("../commands/lint.ts")).runLint(ctx, options, args),
  }),
  current: command({
    summary: "print the database's current version",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    options: NO_OPTIONS,
    writes: false,
    details: "Prints the highest applied version, or base. Never creates or changes anything.",
    run: async (ctx) => (await import("../commands/current.ts")).runCurrent(ctx),
  }),
  drift: command({
    summary: "compare the live schema with a replay of its applied migrations",
    usage: "[--scratch-url URL] [--ignore PATTERNS] [--privileges]",
    minArgs: 0,
    maxArgs: 0,
    options: DRIFT_CHECK_OPTIONS,
    writes: false,
    details: "Replays the versions the version table says are applied on a scratch database\n" +
      "(pglite:memory by default), snapshots both, and lists every object added by hand,\n" +
      "missing, or changed (with both definitions). Read-only on the live database: no\n" +
      "lock, no write; safe on a standby. Exit 0 when equal, 4 when not.",
    run: async (ctx, options) => (await import("../commands/drift.ts")).runDrift(ctx, options),
  }),
  squash: command({
    summary: "replace the migrations up to a version with one proven baseline",
    usage: "--through VERSION [--dry-run] [--scratch-url URL]",
    minArgs: 0,
    maxArgs: 0,
    options: SQUASH_OPTIONS,
    writes: true,
    details: "Replays the migrations up to VERSION on a scratch database, dumps it (schema and\n" +
      "data) into VERSION_baseline.up.sql with the header baseline: true, replays that on a\n" +
      "fresh scratch database, and refuses unless both are equal. Then moves the old pairs\n" +
      "to squashed/. A database at or past VERSION records the baseline without running it.",
    run: async (ctx, options) => (await import("../commands/squash.ts")).runSquash(ctx, options),
  }),
  history: command({
    summary: "list every migration with its state",
    usage: "[--verbose]",
    minArgs: 0,
    maxArgs: 0,
    options: HISTORY_OPTIONS,
    writes: false,
    details: "States: applied, pending, edited (checksum differs), missing (file gone),\n" +
      "interrupted. Never creates or changes anything.",
    run: async (ctx, options) => (await import("../commands/history.ts")).runHistory(ctx, options),
  }),
  import: command({
    summary: "convert another tool's migrations, or adopt its version table",
    usage: "--from TOOL [--source DIR] [--adopt] [--dry-run]",
    minArgs: 0,
    maxArgs: 0,
    options: {
      "from": {
        type: "string",
        arg: "TOOL",
        help: "alembic, dbmate, golang-migrate, goose or flyway",
      },
      "source": {
        type: "string",
        arg: "DIR",
        help: "the tool's migrations (alembic: the alembic.ini directory)",
      },
      "adopt": {
        type: "boolean",
        help: "record what the tool's version table says is applied, for the files in --dir",
      },
      "tool-table": {
        type: "string",
        arg: "[SCHEMA.]NAME",
        help: "the tool's version table, if not its default name",
      },
      "dry-run": { type: "boolean", help: "list the files (or print the SQL); change nothing" },
    },
    writes: true,
    details: "Without --adopt: convert the migrations in --source into strata files in --dir\n" +
      "(a new or empty directory), listing anything not carried over; refuses (writing\n" +
      "nothing) what cannot be converted. With --adopt: on a database the tool migrated,\n" +
      "record its applied versions in strata's version table, in one transaction, logged;\n" +
      "the tool's table is left untouched. See README: Switching from ...",
    run: async (ctx, options) => (await import("../commands/import.ts")).runImport(ctx, options),
  }),
  repair: command({
    summary: "accept edits to applied files: re-record their checksums",
    usage: "VERSION...",
    // No version at all gets its own message from the command.
    minArgs: 0,
    maxArgs: Number.MAX_SAFE_INTEGER,
    options: NO_OPTIONS,
    writes: true,
    details: "For each VERSION named (applied, with its file): records the file's current\n" +
      "checksum, printing the old and the new one, with a repair row in the log. There\n" +
      "is no way to accept every edit at once: name the versions you checked.",
    run: async (ctx, _options, args) =>
      (await import("../commands/repair.ts")).runRepair(ctx, args),
  }),
};
