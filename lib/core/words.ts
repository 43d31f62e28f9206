/**
 * Small text helpers shared by the parsers: edit distance for "did you mean"
 * suggestions, durations and booleans. Pure.
 *
 * @module
 */

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

/**
 * The candidate closest to `word` within `maxDistance` edits, or undefined.
 * Ties go to the earlier candidate, so callers list the safest first. With
 * `prefix`, a candidate that starts with `word` (at least 3 characters)
 * counts as one edit (`stat` finds `status`).
 */
export function closestWord(
  word: string,
  candidates: readonly string[],
  options: { maxDistance?: number; prefix?: boolean } = {},
): string | undefined {
  let best: string | undefined;
  let bestDistance = (options.maxDistance ?? 2) + 1;
  for (const c of candidates) {
    const d = options.prefix && word.length >= 3 && c.startsWith(word) && c !== word
      ? Math.min(1, editDistance(word, c))
      : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
};

/**
 * A duration such as `500ms`, `5s`, `2min`, `1.5h` to whole milliseconds;
 * undefined when the text is not one.
 */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}

/** `true`/`false` (any case) to a boolean; undefined for anything else. */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
}
