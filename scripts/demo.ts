/**
 * `deno task demo`: apply migrations/ to an embedded PostgreSQL (PGlite) in
 * .strata/demo, show the history, step down one and up again, and verify that
 * every down undoes its up. Needs nothing but Deno. Starts fresh each time.
 */

import { run } from "../lib/cli/cli.ts";
import { createDenoIo } from "../lib/cli/io.ts";

const root = new URL("../", import.meta.url).pathname;
const dataDir = `${root}.strata/demo`;
await Deno.remove(dataDir, { recursive: true }).catch(() => {});
await Deno.mkdir(`${root}.strata`, { recursive: true });

const base = createDenoIo();
const io = {
  ...base,
  env: { ...base.env, DATABASE_URL: `pglite:${dataDir}`, STRATA_DIR: `${root}migrations` },
};

const steps: Array<[string[], string]> = [
  [["upgrade"], "apply every migration in migrations/ (each in its own transaction)"],
  [["history"], "every migration with its state"],
  [["downgrade", "-1"], "step back one migration (runs its .down.sql)"],
  [["upgrade"], "and forward again"],
  [["current"], "where the database is now"],
  [["verify"], "prove every down undoes its up, on a scratch in-memory database"],
];

for (const [args, what] of steps) {
  io.stdout(`\n==> strata ${args.join(" ")}    # ${what}\n`);
  const code = await run(args, io);
  if (code !== 0) {
    io.stderr(`demo stopped: strata ${args.join(" ")} exited ${code}\n`);
    Deno.exit(code);
  }
}
io.stdout(
  `\nThe embedded database is in ${dataDir}; try:\n` +
    `  DATABASE_URL=pglite:.strata/demo deno task strata status\n`,
);
