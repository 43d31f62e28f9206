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

if (import.meta.main) {
  const args = installArgs(Deno.args);
  console.log(`deno ${args.join(" ")}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  Deno.exit(out.code);
}
