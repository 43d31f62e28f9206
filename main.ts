import { run } from "./lib/cli.ts";
import { createDenoIo } from "./lib/io.ts";

Deno.exit(await run(Deno.args, createDenoIo()));
