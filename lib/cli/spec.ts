/**
 * The command table: each command's options, arguments, help text and
 * handler, and the global options. Data only, plus help rendering.
 *
 * @module
 */

import type { CommandContext } from "../commands/context.ts";
import { closestWord } from "../core/words.ts";

/** One command-line option. */
export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  readonly arg?: string;
  readonly help: string;
}

/** One command: its arguments, options, help and handler. */
export interface CommandSpec {
  readonly summary: string;
  readonly usage: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly details: string;
  /** True for commands that change the database or the files. */
  readonly writes: boolean;
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "dir": {
    type: "string",
    arg: "DIR",
    help: "migrations directory (env STRATA_DIR; default ./migrations)",
  },
  "database-url": {
    type: "string",
    arg: "URL",
    help: "postgres://user:pass@host:port/db (env DATABASE_URL)",
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
  "json": { type: "boolean", help: "machine-readable output (see README: JSON output)" },
  "help": { type: "boolean", short: "h", help: "show help (for a command: strata COMMAND --help)" },
  "version": { type: "boolean", short: "V", help: "print strata's version" },
};

const RUN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "single-transaction": {
    type: "boolean",
    help: "run every migration of this run in one transaction (all or nothing)",
  },
  "lock-retries": {
    type: "string",
    arg: "N",
    help: "retries of a migration that hit its lock-timeout (SQLSTATE 55P03; default 3)",
  },
};

const DRY_RUN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "dry-run": { type: "boolean", help: "print the exact SQL script instead of running it" },
  "sql": { type: "boolean", help: "same as --dry-run (Alembic's name)" },
  "from": {
    type: "string",
    arg: "VERSION|base",
    help: "with --dry-run: assume the database is at VERSION; makes no connection",
  },
};

const DRIFT_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  "allow-drift": { type: "boolean", help: "proceed although applied files were edited or removed" },
  "allow-out-of-order": { type: "boolean", help: "apply pending versions below the current one" },
};

/** Every command, by name. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  upgrade: {
    writes: true,
    summary: "apply pending migrations",
    usage: "[TARGET]",
    minArgs: 0,
    maxArgs: 1,
    options: { ...DRIFT_OPTIONS, ...RUN_OPTIONS, ...DRY_RUN_OPTIONS },
    details: "TARGET: head (default), a VERSION (7 finds 0007), or +N (the next N).\n" +
      "Each migration runs in its own transaction together with its version-table row.",
    run: async (ctx) => (await import("../commands/migrate.ts")).runMigrate(ctx, "upgrade"),
  },
  downgrade: {
    writes: true,
    summary: "revert applied migrations",
    usage: "TARGET",
    // The missing target gets its own message from the command, listing the forms.
    minArgs: 0,
    maxArgs: 1,
    options: { ...DRIFT_OPTIONS, ...RUN_OPTIONS, ...DRY_RUN_OPTIONS },
    details: "TARGET: a VERSION (it stays applied; everything above it is reverted), -N (the\n" +
      "last N), or base (everything). Refuses before running anything if a migration on\n" +
      "the way has no down file.",
    run: async (ctx) => (await import("../commands/migrate.ts")).runMigrate(ctx, "downgrade"),
  },
  stamp: {
    writes: true,
    summary: "record a version as current without running SQL",
    usage: "TARGET",
    minArgs: 1,
    maxArgs: 1,
    options: DRY_RUN_OPTIONS,
    details: "TARGET: head, base, or a VERSION. Afterwards exactly the migrations at or below\n" +
      "TARGET are recorded as applied; prints each row it adds or removes. Also resolves an\n" +
      "interrupted non-transactional migration: stamp its version if it finished, or the one\n" +
      "before it if it did not.",
    run: async (ctx) => (await import("../commands/stamp.ts")).runStamp(ctx),
  },
  status: {
    writes: false,
    summary: "current version, applied and pending counts, and every problem",
    usage: "[--exit-code]",
    minArgs: 0,
    maxArgs: 0,
    options: {
      "exit-code": {
        type: "boolean",
        help: "exit 5 when migrations are pending, 4 when there are problems",
      },
    },
    details: "Problems: edited or missing applied files, out-of-order pending versions,\n" +
      "interrupted migrations. Never creates or changes anything.",
    run: async (ctx) => (await import("../commands/status.ts")).runStatus(ctx),
  },
  show: {
    writes: false,
    summary: "metadata and SQL of one migration",
    usage: "VERSION",
    minArgs: 1,
    maxArgs: 1,
    options: {},
    details: "Shows the header, checksum, how it runs, the up and down SQL and, when a\n" +
      "database is configured, when and by whom it was applied.",
    run: async (ctx) => (await import("../commands/show.ts")).runShow(ctx),
  },
  new: {
    writes: true,
    summary: "create the next up/down pair with a header",
    usage: "MESSAGE",
    minArgs: 1,
    maxArgs: 1,
    options: {
      timestamp: {
        type: "boolean",
        help: "number it YYYYMMDDHHMMSS (UTC) instead of the next number",
      },
    },
    details: "Numbers by the width already used in the directory (0001 in an empty one),\n" +
      "creates the directory if needed, never overwrites, and prints the two paths.",
    run: async (ctx) => (await import("../commands/new.ts")).runNew(ctx),
  },
  validate: {
    writes: false,
    summary: "check every file (and, with a database, checksums and order)",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    options: {},
    details: "Lists every problem and warning, and how each file runs. Without a database\n" +
      "configured it checks only the files; with one it also reports drift, missing\n" +
      "files, out-of-order and interrupted migrations. Exit 2 for file problems, 4 for\n" +
      "database disagreements.",
    run: async (ctx) => (await import("../commands/validate.ts")).runValidate(ctx),
  },
  log: {
    writes: false,
    summary: "the audit trail: every upgrade, downgrade and stamp step",
    usage: "[--limit N]",
    minArgs: 0,
    maxArgs: 0,
    options: {
      limit: { type: "string", arg: "N", help: "show the newest N entries (default 50)" },
    },
    details: "Newest first. Never creates or changes anything.",
    run: async (ctx) => (await import("../commands/log.ts")).runLog(ctx),
  },
  verify: {
    writes: false,
    summary: "prove every down undoes its up, on a scratch database",
    usage: "[--scratch-url URL]",
    minArgs: 0,
    maxArgs: 0,
    options: {
      "scratch-url": {
        type: "string",
        arg: "URL",
        help: "pglite:memory (default), or a server where a temporary database is made",
      },
    },
    details: "For each migration: snapshot the schema, upgrade one, downgrade one, compare\n" +
      "with the snapshot, upgrade one again; then downgrade base and upgrade head.\n" +
      "Reports every down that leaves a difference (by object name) or fails; exit 4.\n" +
      "Irreversible migrations are reported and skipped. Never touches DATABASE_URL.",
    run: async (ctx) => (await import("../commands/verify.ts")).runVerify(ctx),
  },
  current: {
    writes: false,
    summary: "print the database's current version",
    usage: "",
    minArgs: 0,
    maxArgs: 0,
    options: {},
    details: "Prints the highest applied version, or base. Never creates or changes anything.",
    run: async (ctx) => (await import("../commands/current.ts")).runCurrent(ctx),
  },
  history: {
    writes: false,
    summary: "list every migration with its state",
    usage: "[--verbose]",
    minArgs: 0,
    maxArgs: 0,
    options: {
      verbose: {
        type: "boolean",
        short: "v",
        help: "also files, run mode, checksums, who and how long",
      },
    },
    details: "States: applied, pending, edited (checksum differs), missing (file gone),\n" +
      "interrupted. Never creates or changes anything.",
    run: async (ctx) => (await import("../commands/history.ts")).runHistory(ctx),
  },
};

function optionLines(table: Readonly<Record<string, OptionSpec>>): string {
  return Object.entries(table).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` ${o.arg}` : ""}`;
    return `  ${flag.padEnd(36)} ${o.help}`;
  }).join("\n");
}

/** The program's help text. */
export function programHelp(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`).join(
    "\n",
  );
  return `strata: PostgreSQL schema migrations in plain SQL

Usage: strata [OPTIONS] COMMAND [ARGS]

Commands:
${cmds}

Options:
${optionLines(GLOBAL_OPTIONS)}

Exit codes: 0 ok, 1 a migration failed, 2 usage or invalid files, 3 environment not
ready (connection, lock, read-only), 4 database disagrees with files.
`;
}

/** One command's help text. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const own = Object.keys(c.options).length ? `\nOptions:\n${optionLines(c.options)}\n` : "";
  return `strata ${name}: ${c.summary}

Usage: strata [OPTIONS] ${name} ${c.usage}

${c.details}
${own}
Global options:
${optionLines(GLOBAL_OPTIONS)}
`;
}

/**
 * The command closest to `name` (within two edits, or one it begins), if any.
 * Read-only commands come first, so a typo never suggests a writing command
 * when a read-only one is as close (`statu` is status, not stamp).
 */
export function closestCommand(name: string): string | undefined {
  const names = Object.keys(COMMANDS);
  const ordered = [
    ...names.filter((n) => !COMMANDS[n].writes),
    ...names.filter((n) => COMMANDS[n].writes),
  ];
  return closestWord(name.toLowerCase(), ordered, { prefix: true });
}
