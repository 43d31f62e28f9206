/**
 * The header keys, one spec each: how the value parses and is checked,
 * whether it changes execution (and so enters the checksum), which session
 * setting it applies, and how `show` prints it. A new key is one entry here
 * (plus its field on `Header`). Pure.
 *
 * @module
 */

import { parseBoolean, parseDuration } from "./words.ts";

/** `lint-ignore: rule-id[, rule-id] reason`. */
export interface LintIgnore {
  readonly rules: readonly string[];
  readonly reason: string;
}

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
  readonly lintIgnore?: LintIgnore;
  /** Environment variables the file may use as `${NAME}`. */
  readonly env?: readonly string[];
  /** A squash baseline: runs only on a database at base. */
  readonly baseline?: boolean;
  /** The Alembic revision this file was converted from. */
  readonly alembicRevision?: string;
  /** The Flyway version this file was converted from, as Flyway wrote it (`1.1`). */
  readonly flywayVersion?: string;
}

type Value = NonNullable<Header[keyof Header]>;

/** One header key. */
export interface KeySpec {
  /** Canonical spelling, lower case with dashes. */
  readonly key: string;
  readonly field: keyof Header;
  /** The typed value, or undefined when `value` is not valid for the key. */
  readonly parse: (value: string) => Value | undefined;
  /** What a valid value looks like, for the error hint. */
  readonly expected: string;
  /**
   * Present when the key changes how the file runs: the value's canonical
   * text in the checksum. Keys without it never change a checksum.
   */
  readonly checksumText?: (value: Value) => string;
  /** The session setting the value is applied to, in milliseconds. */
  readonly setting?: "lock_timeout" | "statement_timeout";
  /** The value as `show` prints it. */
  readonly show: (value: Value) => string;
}

/** PostgreSQL's timeouts are 32-bit counts of milliseconds. */
export const MAX_TIMEOUT_MS = 2_147_483_647;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RULE_ID = /^[a-z][a-z0-9-]*$/;

function text(value: string): string | undefined {
  return value === "" ? undefined : value;
}

function timeout(value: string): number | undefined {
  const ms = parseDuration(value);
  return ms !== undefined && ms <= MAX_TIMEOUT_MS ? ms : undefined;
}

function names(value: string): readonly string[] | undefined {
  const list = value.split(",").map((s) => s.trim());
  return list.length > 0 && list.every((n) => NAME.test(n)) ? list : undefined;
}

function lintIgnore(value: string): LintIgnore | undefined {
  const m = /^([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)(.*)$/i.exec(value.trim());
  if (!m) return undefined;
  const rules = m[1].split(",").map((s) => s.trim().toLowerCase());
  const reason = m[2].trim().replace(/^(?:--|[:(—–-])\s*/, "").replace(/\)$/, "").trim();
  if (!rules.every((r) => RULE_ID.test(r)) || reason === "") return undefined;
  return { rules, reason };
}

const asText = (v: Value) => String(v);
const asMs = (v: Value) => `${v}ms`;

/** Every header key strata knows. */
export const HEADER_KEYS: readonly KeySpec[] = [
  {
    key: "message",
    field: "message",
    parse: text,
    expected: "a one-line description",
    show: asText,
  },
  {
    key: "revises",
    field: "revises",
    parse: (v) => (/^\d+$/.test(v) ? BigInt(v) : undefined),
    expected: "a version number, e.g. 0003",
    show: asText,
  },
  {
    key: "transaction",
    field: "transaction",
    parse: parseBoolean,
    expected: '"true" or "false"',
    checksumText: asText,
    show: asText,
  },
  {
    key: "lock-timeout",
    field: "lockTimeout",
    parse: timeout,
    expected: 'a duration such as "500ms", "5s", "2min" or "1h", at most 596h (2147483647ms)',
    checksumText: asText,
    setting: "lock_timeout",
    show: asMs,
  },
  {
    key: "statement-timeout",
    field: "statementTimeout",
    parse: timeout,
    expected: 'a duration such as "500ms", "5s", "2min" or "1h", at most 596h (2147483647ms)',
    checksumText: asText,
    setting: "statement_timeout",
    show: asMs,
  },
  { key: "created", field: "created", parse: text, expected: "a date", show: asText },
  { key: "author", field: "author", parse: text, expected: "a name", show: asText },
  {
    key: "lint-ignore",
    field: "lintIgnore",
    parse: lintIgnore,
    expected: "rule ids separated by commas, then the reason, e.g. " +
      '"index-not-concurrent -- the table holds 40 rows"',
    show: (v) => `${(v as LintIgnore).rules.join(", ")} (${(v as LintIgnore).reason})`,
  },
  {
    key: "env",
    field: "env",
    parse: names,
    expected: "environment variable names separated by commas, e.g. APP_ROLE, APP_SCHEMA",
    checksumText: (v) => (v as readonly string[]).join(","),
    show: (v) => (v as readonly string[]).join(", "),
  },
  {
    key: "baseline",
    field: "baseline",
    parse: parseBoolean,
    expected: '"true" or "false"',
    checksumText: asText,
    show: asText,
  },
  {
    key: "alembic-revision",
    field: "alembicRevision",
    parse: text,
    expected: "an Alembic revision id",
    show: asText,
  },
  {
    key: "flyway-version",
    field: "flywayVersion",
    parse: (v) => (/^\d+(?:[._]\d+)*$/.test(v) ? v : undefined),
    expected: 'a Flyway version: numbers separated by "." or "_", e.g. 1.1',
    show: asText,
  },
];

/** The canonical names of every key, for suggestions. */
export const HEADER_KEY_NAMES: readonly string[] = HEADER_KEYS.map((k) => k.key);

/** The spec of a canonical key name, or undefined. */
export function keySpec(key: string): KeySpec | undefined {
  return HEADER_KEYS.find((k) => k.key === key);
}

/**
 * The header's contribution to the checksum: one `key=value` line per set key
 * that changes execution, in table order. Empty when none is set.
 */
export function headerChecksumText(header: Header): string {
  let out = "";
  for (const spec of HEADER_KEYS) {
    const value = header[spec.field];
    if (spec.checksumText && value !== undefined) {
      out += `${spec.key}=${spec.checksumText(value)}\n`;
    }
  }
  return out;
}

/** `key value` pairs of the set keys, in table order, as `show` prints them. */
export function describeHeader(header: Header): string[] {
  const out: string[] = [];
  for (const spec of HEADER_KEYS) {
    const value = header[spec.field];
    if (value !== undefined && spec.key !== "message") out.push(`${spec.key} ${spec.show(value)}`);
  }
  return out;
}

/** The session settings a header applies: `[setting, milliseconds]` pairs. */
export function headerSettings(
  header: Header,
): Array<readonly ["lock_timeout" | "statement_timeout", number | undefined]> {
  return HEADER_KEYS.filter((s) => s.setting).map((s) =>
    [s.setting!, header[s.field] as number | undefined] as const
  );
}
