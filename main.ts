import { run } from "./lib/cli/cli.ts";
import { createDenoIo } from "./lib/cli/io.ts";

Deno.exit(await run(Deno.args, createDenoIo()));
