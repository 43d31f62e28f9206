/**
 * Resolve configuration from flags and environment (passed in as records):
 * the settings every command shares, the version table name, durations,
 * env files. Pure. (Database URLs: `database_url.ts`.)
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { useColor } from "./output.ts";
import { parseDuration } from "./words.ts";
import type { TableName } from "./types.ts";

/**
 * The driver for server URLs: `wire` (strata's own, on Deno's APIs; the
 * default) or `postgresjs` (postgres.js). Both pass the same conformance suite.
 */
export type ServerDriver = "wire" | "postgresjs";

/** The settings every command shares, resolved once from flags and environment. */
export interface Config {
  readonly dir: string;
  readonly table: TableName;
  readonly lockWaitMs: number;
  /** How long to retry the first connection (`--wait`/`--wait-timeout`); 0: do not wait. */
  readonly connectWaitMs: number;
  /** `--database-url` and `--database-url-file` as given (the environment is read later). */
  readonly databaseUrl?: string;
  readonly databaseUrlFile?: string;
  /** The driver for server URLs (`STRATA_DRIVER`); undefined: the default. */
  readonly driver?: ServerDriver;
  /** strata's cache folder (embedded database seeds), or null when there is none. */
  readonly cacheDir: string | null;
  /** Machine-readable output (`--json`). */
  readonly json: boolean;
  /** `--allow-empty`: a missing or empty migrations directory is not an error. */
  readonly allowEmpty?: boolean;
  readonly color: boolean;
  readonly stderrIsTty: boolean;
  readonly screenRows: number;
}

/** The global flags `resolveConfig` reads. */
export interface GlobalFlags {
  readonly dir?: string;
  readonly table?: string;
  readonly "lock-wait"?: string;
  readonly wait: boolean;
  readonly "wait-timeout"?: string;
  readonly json: boolean;
  readonly "allow-empty"?: boolean;
  readonly "database-url"?: string;
  readonly "database-url-file"?: string;
}

/** The terminal, as far as output cares. */
export interface Terminal {
  readonly isTty: boolean;
  readonly stderrIsTty?: boolean;
  readonly rows?: number;
}

/**
 * Resolve the shared settings: flags win over the environment, which wins
 * over the defaults (`./migrations`, `public.strata_migrations`, 60 s).
 * Throws `USAGE` or `BAD_TABLE_NAME` naming the flag or variable at fault.
 */
export function resolveConfig(
  flags: GlobalFlags,
  env: Readonly<Record<string, string | undefined>>,
  terminal: Terminal,
): Config {
  const tableFlag = flags.table !== undefined;
  const waitFlag = flags["lock-wait"] !== undefined;
  const waitTimeout = flags["wait-timeout"];
  return {
    dir: flags.dir ?? env.STRATA_DIR ?? "./migrations",
    table: parseTableName(
      flags.table ?? env.STRATA_TABLE ?? "strata_migrations",
      tableFlag ? "--table" : "STRATA_TABLE",
    ),
    lockWaitMs: parseDurationOption(
      flags["lock-wait"] ?? env.STRATA_LOCK_WAIT ?? "60s",
      waitFlag ? "--lock-wait" : "STRATA_LOCK_WAIT",
    ),
    connectWaitMs: waitTimeout !== undefined
      ? parseDurationOption(waitTimeout, "--wait-timeout")
      : flags.wait
      ? 60_000
      : 0,
    databaseUrl: flags["database-url"],
    databaseUrlFile: flags["database-url-file"],
    driver: parseDriver(env.STRATA_DRIVER),
    cacheDir: cacheDirFrom(env),
    json: flags.json,
    allowEmpty: flags["allow-empty"] === true,
    color: useColor({ isTty: terminal.isTty, noColor: env.NO_COLOR }) && !flags.json,
    stderrIsTty: terminal.stderrIsTty === true,
    screenRows: terminal.rows ?? 24,
  };
}

/**
 * strata's cache folder: `STRATA_CACHE_DIR` (empty: no cache), else
 * `$XDG_CACHE_HOME/strata`, else `$HOME/.cache/strata`. Deleting it is always
 * safe.
 */
export function cacheDirFrom(env: Readonly<Record<string, string | undefined>>): string | null {
  if (env.STRATA_CACHE_DIR !== undefined) return env.STRATA_CACHE_DIR || null;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/strata`;
  return env.HOME ? `${env.HOME}/.cache/strata` : null;
}

/** `STRATA_DRIVER`: unset or empty is the default. Throws `USAGE`. */
function parseDriver(value: string | undefined): ServerDriver | undefined {
  if (value === undefined || value === "") return undefined;
  if (value === "wire" || value === "postgresjs") return value;
  throw new StrataError("USAGE", `Cannot use STRATA_DRIVER "${value}": no such driver`, {
    hint: 'Use "wire" (the default) or "postgresjs"',
  });
}

/**
 * Parse `[schema.]name` for the version table. Throws `BAD_TABLE_NAME` for an
 * empty part, more than one dot, or a name whose `_log` companion would exceed
 * PostgreSQL's 63-byte identifier limit (it would be silently truncated).
 */
export function parseTableName(value: string, origin: string): TableName {
  const parts = value.split(".");
  const bad = (why: string): never => {
    throw new StrataError("BAD_TABLE_NAME", `Cannot use ${origin} "${value}": ${why}`, {
      hint: "Give [schema.]name, e.g. strata_migrations or ops.schema_versions",
    });
  };
  if (parts.length > 2) bad("more than one dot");
  const [schema, name] = parts.length === 2 ? parts : ["public", parts[0]];
  if (!schema || !name) bad("empty schema or table name");
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  if (bytes(name + "_log") > 63 || bytes(schema) > 63) {
    bad("too long (PostgreSQL truncates names over 63 bytes, and strata adds _log)");
  }
  if (name.includes("\0") || schema.includes("\0")) bad("a NUL character");
  if (/^pg_/i.test(schema) || schema.toLowerCase() === "information_schema") {
    bad(
      `schema "${schema}" is PostgreSQL's own (names starting pg_ are reserved, and pg_temp ` +
        "tables vanish with the session)",
    );
  }
  return { schema, name };
}

/** A duration option such as `--lock-wait 30s` in milliseconds; throws `USAGE`. */
export function parseDurationOption(value: string, option: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new StrataError("USAGE", `Cannot use ${option} "${value}": not a duration`, {
      hint: 'Write a duration such as "500ms", "30s", "2min" or "1h"',
    });
  }
  return ms;
}

const ENV_KEYS = /^(DATABASE_URL|DATABASE_URL_FILE|PG[A-Z_]+|STRATA_[A-Z_]+)$/;

/**
 * Parse a dotenv file: `KEY=value` lines, `#` comments, an optional `export `
 * prefix, values in single quotes (literal) or double quotes (with \\n, \\"
 * escapes). Only DATABASE_URL, DATABASE_URL_FILE, PG* and STRATA_* keys are
 * taken; others are ignored. Throws `USAGE` naming the file and line of a
 * malformed line.
 */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      throw new StrataError(
        "USAGE",
        `Cannot read env file "${file}" line ${i + 1}: not KEY=value`,
        {
          hint: "Each line is KEY=value, a # comment, or blank",
        },
      );
    }
    if (ENV_KEYS.test(m[1])) out[m[1]] = unquoteEnvValue(m[2]);
  }
  return out;
}

/**
 * A value as dotenv reads it: quoted in '', "" or `` (the quotes removed;
 * in "" also \n, \r and escaped characters), then optionally a `# comment`; or
 * unquoted, ending at the first `#`, trimmed.
 */
function unquoteEnvValue(raw: string): string {
  const quoted = /^(['"`])((?:\\.|(?!\1)[^\\])*)\1\s*(?:#.*)?$/.exec(raw);
  if (quoted) {
    const [, q, body] = quoted;
    if (q !== '"') return body;
    return body.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c));
  }
  return raw.replace(/#.*$/, "").trim();
}
