/**
 * Parse the command line (strict: `argv.ts`), find the command, and check
 * that every option given applies to it.
 *
 * @module
 */

import { GLOBAL_OPTIONS, type OptionTable } from "../commands/options.ts";
import { StrataError } from "../core/errors.ts";
import { closestWord } from "../core/words.ts";
import { ArgvError, parseArgv } from "./argv.ts";
import { COMMANDS } from "./spec.ts";

/** Parsed values by option name. */
export type Values = Readonly<Record<string, string | boolean | undefined>>;

/**
 * Parse `args` against every option any command knows (so an option given
 * before the command name still parses), returning values and positionals.
 * Throws `USAGE`, suggesting the closest option for a misspelt one.
 */
export function parseCommandLine(
  args: readonly string[],
): { values: Values; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  const add = (table: OptionTable) => {
    for (const [k, v] of Object.entries(table)) {
      options[k] = v.short ? { type: v.type, short: v.short } : { type: v.type };
    }
  };
  add(GLOBAL_OPTIONS);
  for (const c of Object.values(COMMANDS)) add(c.options);
  try {
    const parsed = parseArgv(moveRelativeTargets(args), options);
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (err) {
    if (!(err instanceof ArgvError)) throw err;
    const unknown = err.unknown?.startsWith("--") ? err.unknown.slice(2) : undefined;
    // Suggest among the options of the command given (with the global ones), if one is.
    const command = args.find((a) => Object.hasOwn(COMMANDS, a));
    const known = command
      ? Object.keys({ ...GLOBAL_OPTIONS, ...COMMANDS[command].options })
      : Object.keys(options);
    const near = unknown === undefined
      ? undefined
      : closestWord(unknown.toLowerCase(), known, { prefix: true });
    throw new StrataError("USAGE", `Cannot parse the command line: ${err.message}`, {
      hint: near
        ? `Did you mean "--${near}"? See strata --help, or strata COMMAND --help`
        : "See strata --help, or strata COMMAND --help",
    });
  }
}

/** `-1` is a target (downgrade -1), not a short option: pass such words after `--`. */
function moveRelativeTargets(args: readonly string[]): string[] {
  const end = args.indexOf("--");
  const head = end === -1 ? [...args] : args.slice(0, end);
  const tail = end === -1 ? [] : args.slice(end + 1);
  const relative = head.filter((a) => /^-\d+$/.test(a));
  if (relative.length === 0) return [...args];
  return [...head.filter((a) => !/^-\d+$/.test(a)), "--", ...relative, ...tail];
}

/** Throw `USAGE` for a given option that the command does not take. */
export function checkOptionsApply(name: string, values: Values): void {
  const allowed = { ...GLOBAL_OPTIONS, ...COMMANDS[name].options };
  for (const key of Object.keys(values)) {
    if (values[key] === undefined || key in allowed) continue;
    if (key === "dry-run" || key === "sql" || key === "from") {
      throw new StrataError(
        "USAGE",
        `Cannot run "${name}" with --${key}: it has no script to print`,
        {
          hint: "--dry-run (--sql) applies to upgrade, downgrade and stamp; nothing was run",
        },
      );
    }
    throw new StrataError("USAGE", `Cannot run "${name}": option --${key} does not apply to it`, {
      hint: `See strata ${name} --help`,
    });
  }
}

/** Throw `USAGE` when the number of arguments does not fit the command. */
export function checkArgCount(name: string, args: readonly string[]): void {
  const c = COMMANDS[name];
  if (args.length >= c.minArgs && args.length <= c.maxArgs) return;
  const expected = c.maxArgs === 0
    ? "no arguments"
    : c.minArgs === c.maxArgs
    ? `${c.minArgs} argument(s)`
    : `${c.minArgs} to ${c.maxArgs} arguments`;
  throw new StrataError("USAGE", `Cannot run "${name}": expected ${expected}, got ${args.length}`, {
    hint: `Usage: strata ${name} ${c.usage}`,
  });
}
