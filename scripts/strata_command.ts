/**
 * The command line of `deno task strata`, read from deno.json, so the
 * benchmarks time strata exactly as users run it.
 */

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * `deno run … main.ts` as an argv array, with absolute paths; of another
 * checkout when `root` is given (to compare two versions in one run).
 */
export function strataCommand(root = ROOT): string[] {
  const base = root.endsWith("/") ? root : `${root}/`;
  const config = JSON.parse(Deno.readTextFileSync(`${base}deno.json`));
  const words = (config.tasks.strata as string).split(/\s+/);
  return words.map((
    w,
    i,
  ) => (i === 0 && w === "deno" ? Deno.execPath() : w === "main.ts" ? `${base}main.ts` : w));
}

/**
 * The flags of `deno task strata` between `run` and `main.ts` (permissions,
 * V8 flags, --quiet, --no-check): what `deno task install` installs with,
 * and what `dist/strata.js` is documented and checked to run with.
 */
export function strataRunFlags(): string[] {
  const words = strataCommand();
  return words.slice(words.indexOf("run") + 1, words.indexOf(`${ROOT}main.ts`));
}
