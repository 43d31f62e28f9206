/**
 * The driver floor: what a connecting strata command pays for its driver,
 * measured as whole `deno run` processes (start-up, module load, connect,
 * `SELECT 1`, close, exit), postgres.js (lib/db/postgres.ts) against the
 * wire driver (lib/db/wire.ts). Also an empty process, and each driver
 * imported without connecting, to separate the module-load share. Variants
 * run in turn (round-robin) after warm-ups; prints medians. Not a test.
 *
 *   deno run -A scripts/bench_driver.ts [--runs 15] [--warmups 2]
 *
 * Server: STRATA_BENCH_URL, default postgres://postgres@127.0.0.1:5432/postgres.
 * The same file is the child process: `--child <variant>`.
 */

// No static imports: the child must load nothing but what its variant names (node:util
// would start part of Deno's node layer and hide some of postgres.js's cost).
//
// The `+node:util` variants load node:util first, as strata's CLI did while it parsed its
// arguments with node:util's parseArgs. lib/cli/argv.ts replaced that, and no node: module
// is on the start-up path now (tests/lint_cli_test.ts checks it): the plain `:floor`
// variants are what strata pays; the `+node:util` ones show the node layer's share.

const VARIANTS = [
  "empty",
  "node:util",
  "postgres.js:import",
  "wire:import",
  "postgres.js:floor",
  "wire:floor",
  "postgres.js:floor+node:util",
  "wire:floor+node:util",
] as const;
type Variant = typeof VARIANTS[number];

/**
 * The child: import the driver and, for a floor variant, connect, SELECT 1,
 * close. `+node:util` first loads node:util (as strata's CLI once did).
 */
async function runChild(variant: Variant): Promise<void> {
  if (variant === "empty") return;
  if (variant.includes("node:util")) await import("node:util");
  if (variant === "node:util") return;
  const create = variant.startsWith("wire")
    ? (await import("../lib/db/wire.ts")).createWireDb
    : (await import("../lib/db/postgres.ts")).createPostgresDb;
  if (variant.endsWith(":import")) return;
  const db = create(JSON.parse(Deno.env.get("STRATA_BENCH_CONN") ?? "{}"));
  try {
    await db.query("SELECT 1");
  } finally {
    await db.close();
  }
}

async function timeChild(
  variant: Variant,
  run: { flags: readonly string[]; env: Record<string, string> },
): Promise<number> {
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...run.flags, new URL(import.meta.url).pathname, "--child", variant],
    env: run.env,
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  if (!out.success) {
    throw new Error(`${variant} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function runParent(runs: number, warmups: number): Promise<void> {
  const { parseDatabaseUrl } = await import("../lib/core/database_url.ts");
  // The permissions and flags of `deno task strata`, so the floor is the one strata pays.
  const flags = (await import("./strata_command.ts")).strataRunFlags();
  const url = Deno.env.get("STRATA_BENCH_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const env = { STRATA_BENCH_CONN: JSON.stringify(parseDatabaseUrl(url, "STRATA_BENCH_URL")) };
  const times = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < warmups + runs; round++) {
    for (const variant of VARIANTS) {
      const ms = await timeChild(variant, { flags, env });
      if (round >= warmups) times.get(variant)!.push(ms);
    }
  }
  const m = (v: Variant) => median(times.get(v)!);
  const fmt = (ms: number) => `${ms.toFixed(0)} ms`;
  const spread = (v: Variant) => {
    const xs = [...times.get(v)!].sort((a, b) => a - b);
    return `${fmt(xs[0])} – ${fmt(xs[xs.length - 1])}`;
  };
  console.log(`| process (deno run, ${runs} runs each, round-robin) | median | min – max |`);
  console.log("| --- | --- | --- |");
  for (const v of VARIANTS) console.log(`| ${v} | ${fmt(m(v))} | ${spread(v)} |`);
  const [pg, wire, empty] = [m("postgres.js:floor"), m("wire:floor"), m("empty")];
  const [pgCli, wireCli] = [m("postgres.js:floor+node:util"), m("wire:floor+node:util")];
  const saved = (a: number, b: number) => `${((1 - b / a) * 100).toFixed(0)}%`;
  console.log();
  console.log(
    `floor ratio wire / postgres.js: ${(wire / pg).toFixed(2)} (saves ${saved(pg, wire)})`,
  );
  console.log(
    `floor above an empty process: postgres.js ${fmt(pg - empty)}, wire ${fmt(wire - empty)} ` +
      `(saves ${saved(pg - empty, wire - empty)})`,
  );
  console.log(
    `with node:util loaded first (as strata's CLI did before lib/cli/argv.ts): ratio ${
      (wireCli / pgCli).toFixed(2)
    } ` +
      `(saves ${saved(pgCli, wireCli)}), ${fmt(pgCli - wireCli)} less`,
  );
  console.log(
    `module load above an empty process: postgres.js ${fmt(m("postgres.js:import") - empty)}, ` +
      `wire ${fmt(m("wire:import") - empty)}`,
  );
}

function option(name: string, fallback: string): string {
  const at = Deno.args.indexOf(`--${name}`);
  return at >= 0 && at + 1 < Deno.args.length ? Deno.args[at + 1] : fallback;
}

const child = option("child", "");
if (child) {
  if (!(VARIANTS as readonly string[]).includes(child)) {
    throw new Error(`unknown variant "${child}"; one of ${VARIANTS.join(", ")}`);
  }
  await runChild(child as Variant);
} else {
  await runParent(Number(option("runs", "15")), Number(option("warmups", "2")));
}
