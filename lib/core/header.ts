/**
 * Parse the header block of a migration file: the leading `-- key: value`
 * comment lines before the first statement. Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";

/** Typed header metadata of one file. Absent keys are undefined. */
export interface Header {
  readonly message?: string;
  readonly revises?: bigint;
  readonly transaction?: boolean;
  /** Milliseconds. */
  readonly lockTimeout?: number;
  /** Milliseconds. */
  readonly statementTimeout?: number;
  readonly created?: string;
  readonly author?: string;
}

/** The header keys strata knows, in their canonical spelling. */
export const HEADER_KEYS = [
  "message",
  "revises",
  "transaction",
  "lock-timeout",
  "statement-timeout",
  "created",
  "author",
] as const;

type HeaderKey = typeof HEADER_KEYS[number];

const KEY_LINE = /^--\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s?(.*)$/;
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
 * Parse the header of `text` (already normalised: LF line ends, no BOM).
 * Returns `{}` when there is no header. Throws `HEADER_UNKNOWN_KEY` for a key
 * within two edits of a known one, `HEADER_BAD_VALUE` for a bad value and
 * `HEADER_DUPLICATE_KEY` for a repeated key, each naming file and line.
 */
export function parseHeader(text: string, file: string): Header {
  const values: Partial<Record<HeaderKey, { value: string; line: number }>> = {};
  // Walk line by line only as far as the header goes (files can be megabytes).
  let start = 0;
  for (let i = 0; start <= text.length; i++) {
    const nl = text.indexOf("\n", start);
    const line = text.slice(start, nl === -1 ? text.length : nl).trim();
    start = nl === -1 ? text.length + 1 : nl + 1;
    if (line === "") continue;
    if (!line.startsWith("--")) break;
    const m = KEY_LINE.exec(line);
    if (!m) continue;
    const key = resolveKey(m[1], file, i + 1);
    if (key === undefined) continue;
    if (values[key]) {
      throw new StrataError(
        "HEADER_DUPLICATE_KEY",
        `Cannot read header of "${file}" line ${i + 1}: key "${key}" is given twice`,
        { file, line: i + 1, hint: `It was first given on line ${values[key]!.line}` },
      );
    }
    values[key] = { value: m[2].trim(), line: i + 1 };
  }
  return buildHeader(values, file);
}

function resolveKey(raw: string, file: string, line: number): HeaderKey | undefined {
  const key = raw.toLowerCase().replaceAll("_", "-");
  if ((HEADER_KEYS as readonly string[]).includes(key)) return key as HeaderKey;
  const near = closestKey(key);
  if (near === undefined) return undefined;
  throw new StrataError(
    "HEADER_UNKNOWN_KEY",
    `Cannot read header of "${file}" line ${line}: unknown key "${raw}"`,
    {
      file,
      line,
      hint: `Did you mean "${near}"? A misspelt key would be silently ignored, so strata ` +
        `refuses it; write it as a plain comment without the colon if it is not a header key`,
    },
  );
}

/** The known key within edit distance 2 of `key`, if any (the closest one). */
export function closestKey(key: string): HeaderKey | undefined {
  let best: HeaderKey | undefined;
  let bestDistance = 3;
  for (const known of HEADER_KEYS) {
    const d = editDistance(key, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance with adjacent transpositions (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}

function buildHeader(
  values: Partial<Record<HeaderKey, { value: string; line: number }>>,
  file: string,
): Header {
  const bad = (key: HeaderKey, expected: string): never => {
    const { value, line } = values[key]!;
    throw new StrataError(
      "HEADER_BAD_VALUE",
      `Cannot read header of "${file}" line ${line}: bad value "${value}" for "${key}"`,
      { file, line, hint: `Expected ${expected}` },
    );
  };
  const text = (key: HeaderKey) => values[key]?.value;
  const header: {
    -readonly [K in keyof Header]: Header[K];
  } = {};
  if (values.message) header.message = text("message");
  if (values.created) header.created = text("created");
  if (values.author) header.author = text("author");
  if (values.revises) {
    const v = text("revises")!;
    header.revises = /^\d+$/.test(v) ? BigInt(v) : bad("revises", "a version number, e.g. 0003");
  }
  if (values.transaction) {
    const v = parseBoolean(text("transaction")!);
    header.transaction = v ?? bad("transaction", '"true" or "false"');
  }
  for (
    const [key, field] of [["lock-timeout", "lockTimeout"], [
      "statement-timeout",
      "statementTimeout",
    ]] as const
  ) {
    if (!values[key]) continue;
    header[field] = parseDuration(text(key)!) ??
      bad(key, 'a duration such as "500ms", "5s", "2min" or "1h"');
  }
  return header;
}

/** `true`/`false` (any case) to a boolean; undefined for anything else. */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (v === "true") return true;
  if (v === "false") return false;
  return undefined;
}

/**
 * A duration such as `500ms`, `5s`, `2min`, `1.5h` to whole milliseconds;
 * undefined when the text is not one.
 */
export function parseDuration(value: string): number | undefined {
  const m = DURATION.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2]]);
}
