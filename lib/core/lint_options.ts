/**
 * The command-line options of `lint`, and the `--lint` option of `upgrade`:
 * plain data in the shape of `commands/options.ts`, kept here so that the
 * command table can declare them without loading the linter; and their
 * checks. Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";

/** `lint`'s options. */
export const LINT_OPTIONS = {
  all: { type: "boolean", help: "lint every up file, each as if the ones before it were applied" },
  trace: {
    type: "boolean",
    help: "run the files on a scratch database and report the real locks, rewrites, scans",
  },
  "scratch-url": {
    type: "string",
    arg: "URL",
    help: "with --trace: pglite:memory (default), or a server where a scratch database is made",
  },
  "pg-version": {
    type: "string",
    arg: "N",
    help: "the server's major version for version-dependent advice (default: the server's, or 17)",
  },
  strict: { type: "boolean", help: "fail (exit 6) on warnings too" },
  format: {
    type: "string",
    arg: "text|github",
    help: "github: workflow annotations (::error ...)",
  },
} as const;

/** `upgrade --lint`. */
export const UPGRADE_LINT_OPTION = {
  lint: {
    type: "boolean",
    help: "lint the pending migrations first; refuse (exit 6) before any lock on an error",
  },
} as const;

/** The version assumed for version-dependent advice when none is known. */
export const DEFAULT_PG_VERSION = 17;

/**
 * `lint`'s option values checked before anything is read: the format, and
 * the server version from `--pg-version` (undefined when not given). Throws
 * `USAGE` naming the option.
 */
export function checkLintOptions(
  options: {
    readonly all: boolean;
    readonly trace: boolean;
    readonly "scratch-url": string | undefined;
    readonly "pg-version": string | undefined;
    readonly format: string | undefined;
  },
  args: readonly string[],
): { format: "text" | "github"; pgOption: number | undefined } {
  if (options.all && args.length > 0) {
    throw new StrataError("USAGE", "Cannot lint: --all and named files exclude each other", {
      hint: "Leave out --all to lint only the files named, or the names to lint every file",
    });
  }
  if (options["scratch-url"] !== undefined && !options.trace) {
    throw new StrataError("USAGE", "Cannot use --scratch-url without --trace", {
      hint: "--scratch-url says where --trace replays the migrations",
    });
  }
  return { format: parseFormat(options.format), pgOption: parsePgVersion(options["pg-version"]) };
}

function parseFormat(value: string | undefined): "text" | "github" {
  if (value === undefined || value === "text" || value === "github") return value ?? "text";
  throw new StrataError("USAGE", `Cannot use --format "${value}": no such format`, {
    hint: 'Use "text" (the default) or "github"; --json gives JSON',
  });
}

function parsePgVersion(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)(?:\.\d+)?$/.exec(value.trim());
  if (m && Number(m[1]) >= 9 && Number(m[1]) <= 99) return Number(m[1]);
  throw new StrataError("USAGE", `Cannot use --pg-version "${value}": not a major version`, {
    hint: "Give the server's major version, e.g. --pg-version 15",
  });
}
