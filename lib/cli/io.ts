/**
 * The process's real input and output, for `cli.ts`.
 *
 * @module
 */

import type { Io } from "./cli.ts";

/** An `Io` over Deno's stdout, stderr and environment. */
export function createDenoIo(): Io {
  const enc = new TextEncoder();
  return {
    stdout: (text) => writeAll(Deno.stdout, enc.encode(text)),
    stderr: (text) => writeAll(Deno.stderr, enc.encode(text)),
    env: Deno.env.toObject(),
    isTty: Deno.stdout.isTerminal(),
    stderrIsTty: Deno.stderr.isTerminal(),
    rows: terminalRows(),
    readTextFile: (path) => Deno.readTextFile(path),
  };
}

function writeAll(w: { writeSync(p: Uint8Array): number }, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += w.writeSync(data.subarray(off));
}

function terminalRows(): number | undefined {
  try {
    return Deno.consoleSize().rows;
  } catch {
    return undefined;
  }
}
