/**
 * The command line: parse arguments (one option table per command), resolve
 * settings, dispatch, write results to stdout and errors to stderr, and turn
 * every outcome into an exit code. Only `main.ts` exits.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parseDurationOption, parseEnvFile, parseTableName } from "../core/config.ts";
import { describeError, exitCodeFor, StrataError } from "../core/errors.ts";
import { closestWord } from "../core/words.ts";
import {
  closestCommand,
  commandHelp,
  COMMANDS,
  GLOBAL_OPTIONS,
  type OptionSpec,
  programHelp,
} from "./spec.ts";
import type { CommandContext, Io } from "../commands/context.ts";
import { useColor } from "../core/output.ts";
import { STRATA_VERSION } from "../core/version.ts";

export type { Io } from "../commands/context.ts";

/** Run strata with `args`; returns the exit code (DESIGN.md's table). Never throws. */
export async function run(args: readonly string[], rawIo: Io): Promise<number> {
  const secrets: RegExp[] = [];
  const io = redactingIo(rawIo, secrets);
  const json = args.includes("--json");
  try {
    return await dispatch(args, io, secrets);
  } catch (err) {
    if (err instanceof StrataError) {
      io.stderr((json ? JSON.stringify(errorRecord(err)) : describeError(err)) + "\n");
      return exitCodeFor(err.code);
    }
    io.stderr(
      `error[INTERNAL]: ${err instanceof Error ? err.message : String(err)}\n` +
        "hint: this is a bug in strata; please report it with the command you ran\n",
    );
    return 1;
  }
}

function errorRecord(err: StrataError) {
  return {
    event: "error",
    code: err.code,
    exit: exitCodeFor(err.code),
    message: err.message,
    details: err.details,
    hint: err.hint ?? null,
    file: err.file ?? null,
    line: err.line ?? null,
    column: err.column ?? null,
  };
}

async function dispatch(args: readonly string[], io: Io, secrets: RegExp[]): Promise<number> {
  const { values, positionals } = parseAll(args);
  if (values.version) {
    io.stdout(`strata ${STRATA_VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`);
    return 0;
  }
  const [name, ...rest] = positionals;
  if (name === undefined) {
    io.stdout(programHelp());
    return values.help ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    const near = closestCommand(name);
    throw new StrataError("UNKNOWN_COMMAND", `Cannot run "${name}": no such command`, {
      hint: near ? `Did you mean "${near}"? See strata --help` : "See strata --help",
    });
  }
  if (values.help) {
    io.stdout(commandHelp(name));
    return 0;
  }
  checkOptionsApply(name, values);
  io = { ...io, env: await mergeEnvFile(values["env-file"] as string | undefined, io) };
  if (rest.length < command.minArgs || rest.length > command.maxArgs) {
    throw new StrataError(
      "USAGE",
      `Cannot run "${name}": expected ${argCount(command)}, got ${rest.length}`,
      {
        hint: `Usage: strata ${name} ${command.usage}`,
      },
    );
  }
  const ctx = buildContext(values, rest, io, secrets);
  return await command.run(ctx);
}

function argCount(c: { minArgs: number; maxArgs: number }): string {
  if (c.maxArgs === 0) return "no arguments";
  return c.minArgs === c.maxArgs
    ? `${c.minArgs} argument(s)`
    : `${c.minArgs} to ${c.maxArgs} arguments`;
}

type Values = Record<string, string | boolean | undefined>;

function parseAll(args: readonly string[]): { values: Values; positionals: string[] } {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  const add = (table: Record<string, OptionSpec>) => {
    for (const [k, v] of Object.entries(table)) {
      options[k] = v.short ? { type: v.type, short: v.short } : { type: v.type };
    }
  };
  add(GLOBAL_OPTIONS);
  for (const c of Object.values(COMMANDS)) add(c.options);
  try {
    const parsed = parseArgs({
      args: moveRelativeTargets(args),
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional.*$/s, "");
    const unknown = /Unknown option '--([^']+)'/.exec(message)?.[1];
    const near = unknown === undefined
      ? undefined
      : closestWord(unknown.toLowerCase(), Object.keys(options), { prefix: true });
    throw new StrataError("USAGE", `Cannot parse the command line: ${message}`, {
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

function checkOptionsApply(name: string, values: Values): void {
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

function buildContext(
  values: Values,
  positionals: string[],
  io: Io,
  secrets: RegExp[],
): CommandContext {
  const env = io.env;
  const str = (k: string) => values[k] as string | undefined;
  const tableText = str("table") ?? env.STRATA_TABLE ?? "strata_migrations";
  const lockWait = str("lock-wait") ?? env.STRATA_LOCK_WAIT ?? "60s";
  const waitTimeout = str("wait-timeout");
  const connectWaitMs = waitTimeout !== undefined
    ? parseDurationOption(waitTimeout, "--wait-timeout")
    : values.wait
    ? 60_000
    : 0;
  return {
    io,
    dir: str("dir") ?? env.STRATA_DIR ?? "./migrations",
    table: parseTableName(tableText, str("table") !== undefined ? "--table" : "STRATA_TABLE"),
    lockWaitMs: parseDurationOption(
      lockWait,
      str("lock-wait") !== undefined ? "--lock-wait" : "STRATA_LOCK_WAIT",
    ),
    connectWaitMs,
    color: useColor({ isTty: io.isTty, noColor: env.NO_COLOR }) && values.json !== true,
    json: values.json === true,
    stderrIsTty: io.stderrIsTty === true,
    screenRows: io.rows ?? 24,
    flags: values,
    positionals,
    addSecret: (s) => {
      // A last line of defence: every URL is redacted where it is made (redactUrl), and
      // scrubbing secrets shorter than 4 characters would mangle ordinary text.
      if (s.length >= 4) secrets.push(secretPattern(s));
    },
  };
}

/**
 * A pattern matching a secret as it may appear in text: each character as
 * is or %-encoded (any case, any mixture), and a space also as `+`.
 */
function secretPattern(secret: string): RegExp {
  const enc = new TextEncoder();
  const parts = [...secret].map((ch) => {
    const hex = [...enc.encode(ch)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("");
    const raw = ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return `(?:${raw}|${hex}${ch === " " ? "|\\+" : ""})`;
  });
  return new RegExp(parts.join(""), "gi");
}

function redactingIo(io: Io, secrets: readonly RegExp[]): Io {
  const scrub = (text: string) => {
    let out = text;
    for (const s of secrets) out = out.replace(s, "***");
    return out;
  };
  return {
    ...io,
    stdout: (t) => io.stdout(scrub(t)),
    stderr: (t) => io.stderr(scrub(t)),
  };
}

/**
 * The environment with an env file's values underneath: `--env-file PATH`,
 * or `./.env` when it exists. The real environment wins.
 */
async function mergeEnvFile(path: string | undefined, io: Io): Promise<Io["env"]> {
  const file = path ?? ".env";
  let text: string;
  try {
    text = await io.readTextFile(file);
  } catch (err) {
    if (path === undefined && err instanceof Deno.errors.NotFound) return io.env;
    throw new StrataError("USAGE", `Cannot read --env-file "${file}": ${(err as Error).message}`, {
      hint: "Check the path, or leave --env-file out",
    });
  }
  return { ...parseEnvFile(text, file), ...io.env };
}
