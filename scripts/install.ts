/**
 * `deno task install`: install the `strata` command from this checkout with
 * `deno install -g`, with exactly the permissions and V8 flags of
 * `deno task strata` (read from deno.json, so the two cannot drift apart).
 * Extra arguments go to `deno install` (`--root DIR`); `DENO_INSTALL_ROOT`
 * is honoured as by `deno install` itself. The command is printed first.
 *
 * @module
 */

import { strataRunFlags } from "./strata_command.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** The `deno install` arguments for this checkout, `extra` before the module. */
export function installArgs(extra: readonly string[] = []): string[] {
  return [
    "install",
    "-g",
    "-f",
    "-n",
    "strata",
    "--config",
    `${ROOT}deno.json`,
    ...strataRunFlags(),
    ...extra,
    `${ROOT}main.ts`,
  ];
}

/**
 * The folder `deno install -g` puts the command in: `--root DIR` (or
 * `--root=DIR`) among `args`, else `DENO_INSTALL_ROOT`, else `~/.deno`; then
 * `/bin`.
 */
export function installBinDir(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string {
  let root: string | undefined;
  args.forEach((a, i) => {
    if (a === "--root" && i + 1 < args.length) root = args[i + 1];
    else if (a.startsWith("--root=")) root = a.slice("--root=".length);
  });
  root ??= env.DENO_INSTALL_ROOT ||
    `${(env.HOME ?? env.USERPROFILE ?? "~").replace(/\/+$/, "")}/.deno`;
  return `${root.replace(/\/+$/, "")}/bin`;
}

/**
 * What to tell the user when `bin` is not on `path` (the install runs with
 * `--quiet`, so Deno says nothing), or null when it is.
 */
export function pathAdvice(bin: string, path: string | undefined): string | null {
  const on = (path ?? "").split(":").some((p) => p.replace(/\/+$/, "") === bin);
  if (on) return null;
  return `strata is installed in ${bin}, which is not on your PATH; add it, for example:\n` +
    `  export PATH="${bin}:$PATH"   # in ~/.profile or your shell's rc file`;
}

if (import.meta.main) {
  const args = installArgs(Deno.args);
  console.log(`deno ${args.join(" ")}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  const advice = out.success
    ? pathAdvice(installBinDir(Deno.args, Deno.env.toObject()), Deno.env.get("PATH"))
    : null;
  if (advice) console.error(advice);
  Deno.exit(out.code);
}
