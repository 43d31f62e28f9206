/**
 * A strict command-line parser for strata's options: `--name value`,
 * `--name=value`, `-x value`, `-xVALUE`, grouped boolean shorts (`-hV`),
 * booleans that take no value, `--` ending the options; everything else is a
 * positional. The same rules as `node:util` parseArgs in strict mode, without
 * loading the Node compatibility layer that costs every run ~10 ms. Pure.
 *
 * @module
 */

/** How one option is written: a boolean flag or an option with a value. */
export interface ArgvOption {
  readonly type: "string" | "boolean";
  readonly short?: string;
}

/** What the command line said: values by long option name, and the positionals. */
export interface ParsedArgv {
  readonly values: Record<string, string | boolean>;
  readonly positionals: string[];
}

/** A command line that breaks the rules; the message names the word at fault. */
export class ArgvError extends Error {
  constructor(message: string, readonly unknown?: string) {
    super(message);
    this.name = "ArgvError";
  }
}

/** Parse `args` against `options` (long name to spec). Throws `ArgvError`. */
export function parseArgv(
  args: readonly string[],
  options: Readonly<Record<string, ArgvOption>>,
): ParsedArgv {
  const shorts = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) shorts.set(o.short, name);
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) i = readLong(arg, args, i, options, values);
    else if (arg.length > 1 && arg.startsWith("-")) {
      i = readShorts(arg, args, i, shorts, options, values);
    } else positionals.push(arg);
  }
  return { values, positionals };
}

function readLong(
  arg: string,
  args: readonly string[],
  i: number,
  options: Readonly<Record<string, ArgvOption>>,
  values: Record<string, string | boolean>,
): number {
  const eq = arg.indexOf("=");
  const name = arg.slice(2, eq === -1 ? undefined : eq);
  const spec = Object.hasOwn(options, name) ? options[name] : undefined;
  if (!spec) throw new ArgvError(`Unknown option '--${name}'`, `--${name}`);
  if (spec.type === "boolean") {
    if (eq !== -1) throw new ArgvError(`Option '--${name}' does not take an argument`);
    values[name] = true;
    return i;
  }
  if (eq !== -1) {
    values[name] = arg.slice(eq + 1);
    return i;
  }
  values[name] = valueAfter(args, i, `--${name}`);
  return i + 1;
}

function readShorts(
  arg: string,
  args: readonly string[],
  i: number,
  shorts: ReadonlyMap<string, string>,
  options: Readonly<Record<string, ArgvOption>>,
  values: Record<string, string | boolean>,
): number {
  for (let k = 1; k < arg.length; k++) {
    const name = shorts.get(arg[k]);
    if (name === undefined) throw new ArgvError(`Unknown option '-${arg[k]}'`, `-${arg[k]}`);
    if (options[name].type === "boolean") {
      values[name] = true;
      continue;
    }
    if (k + 1 < arg.length) {
      values[name] = arg.slice(k + 1);
      return i;
    }
    values[name] = valueAfter(args, i, `-${arg[k]}`);
    return i + 1;
  }
  return i;
}

/** The value after option `flag` at `args[i]`: missing at the end, ambiguous when it looks like an option. */
function valueAfter(args: readonly string[], i: number, flag: string): string {
  const next = args[i + 1];
  if (next === undefined) throw new ArgvError(`Option '${flag} <value>' argument missing`);
  if (next.startsWith("-") && next !== "-") {
    throw new ArgvError(
      `Option '${flag}' argument is ambiguous: "${next}" looks like an option. ` +
        `To give a value that starts with a dash, write ${flag}=${next}`,
    );
  }
  return next;
}
