/**
 * The command line of `deno task strata`, read from deno.json, so the
 * benchmarks time strata exactly as users run it.
 */

const ROOT = new URL("../", import.meta.url).pathname;

/** `deno run … main.ts` as an argv array, with absolute paths. */
export function strataCommand(): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const words = (config.tasks.strata as string).split(/\s+/);
  return words.map((
    w,
    i,
  ) => (i === 0 && w === "deno" ? Deno.execPath() : w === "main.ts" ? `${ROOT}main.ts` : w));
}
