/**
 * The command line: parse arguments, resolve the shared settings once,
 * dispatch to the command with its own typed options, write results to
 * stdout and errors to stderr, and turn every outcome into an exit code.
 * Only `main.ts` exits.
 *
 * @module
 */

import type { Io } from "../commands/context.ts";
import { GLOBAL_OPTIONS, pickOptions } from "../commands/options.ts";
import { parseEnvFile, resolveConfig } from "../core/config.ts";
import { describeError, exitCodeFor, StrataError } from "../core/errors.ts";
import { STRATA_VERSION } from "../core/version.ts";
import { checkArgCount, checkOptionsApply, parseCommandLine } from "./args.ts";
import { closestCommand, commandHelp, programHelp } from "./help.ts";
import { attributeToEnvFile, type EnvFileOrigin } from "./env_origin.ts";
import { addSecret, redactingIo } from "./secrets.ts";
import { COMMANDS } from "./spec.ts";

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
    const internal = new StrataError(
      "INTERNAL",
      err instanceof Error ? err.message : String(err),
      { hint: "this is a bug in strata; please report it with the command you ran" },
    );
    io.stderr((json ? JSON.stringify(errorRecord(internal)) : describeError(internal)) + "\n");
    return 1;
  }
}

/** The `--json` shape of an error (README: JSON output). */
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
    partial: err.partial ?? null,
  };
}

async function dispatch(args: readonly string[], io: Io, secrets: RegExp[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args);
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
  checkArgCount(name, rest);
  const global = pickOptions(GLOBAL_OPTIONS, values);
  const { env, origin } = await mergeEnvFile(global["env-file"], io);
  try {
    const config = resolveConfig(global, env, io);
    const ctx = { ...config, io: { ...io, env }, addSecret: (s: string) => addSecret(secrets, s) };
    return await command.run(ctx, pickOptions(command.options, values), rest);
  } catch (err) {
    throw attributeToEnvFile(err, origin);
  }
}

/**
 * The environment with an env file's values underneath: `--env-file PATH`,
 * or `./.env` when it exists. The real environment wins.
 */
async function mergeEnvFile(
  path: string | undefined,
  io: Io,
): Promise<{ env: Io["env"]; origin: EnvFileOrigin | null }> {
  const file = path ?? ".env";
  let text: string;
  try {
    text = await io.readTextFile(file);
  } catch (err) {
    if (path === undefined && err instanceof Deno.errors.NotFound) {
      return { env: io.env, origin: null };
    }
    throw new StrataError("USAGE", `Cannot read --env-file "${file}": ${(err as Error).message}`, {
      hint: "Check the path, or leave --env-file out",
    });
  }
  const values = parseEnvFile(text, file);
  const keys = Object.keys(values).filter((k) => io.env[k] === undefined);
  return { env: { ...values, ...io.env }, origin: { file, keys } };
}
