/**
 * `deno task compile`: build the single executable `dist/strata` with
 * `deno compile`, with exactly the permissions and V8 flags of
 * `deno task strata` (read from deno.json, as `deno task install` and the
 * bundle do, so the three cannot drift apart).
 *
 *   deno task compile                        # this platform -> dist/strata
 *   deno task compile --target x86_64-apple-darwin --output dist/strata-x86_64-apple-darwin
 *   deno task compile --release              # linux x64/arm64, macOS x64/arm64 -> dist/
 *
 * `deno compile` downloads its runtime (denort) for each target. Where that
 * host cannot be reached, set DENORT_BIN to the path of a denort matching the
 * target (one target per run then). Every build is checked by running the
 * result with --version when it can run here; a "runtime" that turns out not
 * to be denort (it would print Deno's own version) is rejected, never shipped.
 */

import { parseArgs } from "node:util";
import { strataRunFlags } from "./strata_command.ts";

const RELEASE_TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];

const ROOT = new URL("../", import.meta.url).pathname;

/** What to build: for `target` (default this platform), into `output`. */
export interface CompileOptions {
  readonly target?: string;
  readonly output: string;
}

/**
 * The `deno compile` arguments: the flags of `deno task strata` (its
 * permissions, which the executable keeps, and its V8 flags), then the
 * drivers to include, the output and the target.
 */
export function compileArgs(options: CompileOptions): string[] {
  return [
    "compile",
    ...strataRunFlags(),
    // Loaded with import() only when used; named so the binary holds every driver: the wire
    // driver (and its node:tls path for unverified TLS), postgres.js, PGlite.
    "--include",
    `${ROOT}lib/db/wire.ts`,
    "--include",
    `${ROOT}lib/db/wire_node_tls.ts`,
    "--include",
    `${ROOT}lib/db/postgres.ts`,
    "--include",
    `${ROOT}lib/db/pglite.ts`,
    "--output",
    options.output,
    ...(options.target ? ["--target", options.target] : []),
    `${ROOT}main.ts`,
  ];
}

/** Build one executable; returns an error text, or null when it was built and checked. */
export async function compile(options: CompileOptions): Promise<string | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(options),
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    // deno prints a chain of causes; the last lines say what really failed.
    // deno-lint-ignore no-control-regex -- stripping terminal colour codes (ESC [ ... m)
    const full = new TextDecoder().decode(out.stderr).replace(/\x1b\[[0-9;]*m/g, "");
    const lines = full.split("\n").map((l) => l.trim()).filter((l) =>
      l && !/backtrace|^\d+: <unknown>/i.test(l)
    );
    const text = lines.slice(-2).join(" ");
    const offline = /dns error|lookup|download|dl\.deno\.land|connect/i.test(full);
    return offline && !Deno.env.get("DENORT_BIN")
      ? `deno compile could not download its runtime (denort) and DENORT_BIN is not set: ${text}`
      : `deno compile failed: ${text}`;
  }
  if (options.target && options.target !== Deno.build.target) return null;
  const check = await new Deno.Command(options.output, {
    args: ["--version"],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const version = new TextDecoder().decode(check.stdout);
  if (!check.success || !version.startsWith("strata ")) {
    await Deno.remove(options.output).catch(() => {});
    return `the built file does not run strata (it printed "${version.split("\n")[0]}"): ` +
      "DENORT_BIN must point at a denort for this target, not at the deno binary";
  }
  return null;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      target: { type: "string" },
      output: { type: "string" },
      release: { type: "boolean" },
    },
  });
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  const builds = values.release
    ? RELEASE_TARGETS.map((target) => ({ target, output: `${ROOT}dist/strata-${target}` }))
    : [{ target: values.target, output: values.output ?? `${ROOT}dist/strata` }];
  let failed = false;
  for (const b of builds) {
    const error = await compile(b);
    console.log(error ? `FAILED ${b.output}: ${error}` : `built  ${b.output}`);
    failed ||= error !== null;
  }
  Deno.exit(failed ? 1 : 0);
}
