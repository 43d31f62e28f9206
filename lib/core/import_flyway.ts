/**
 * Flyway's SQL migrations to strata pairs: `V<version>__<description>.sql`
 * becomes the up file, `U<version>__<description>.sql` (Flyway Teams' undo)
 * its down file; a V file without one is irreversible, as it is in Flyway.
 * `executeInTransaction=false` in a `<script>.sql.conf` becomes
 * `-- transaction: false`. Repeatable (`R__`) and callback scripts have no
 * strata equivalent and are listed, not carried over. Pure.
 *
 * Versions. Flyway versions are parts separated by `.` or `_`, compared
 * part by part as numbers, missing parts counting as 0 (`1.1` < `1.2` <
 * `1.10` < `2`). strata versions are single integers, so each is written
 * with K parts of W digits, K the most parts any version has and W the most
 * digits any part has: with `1`, `1.1`, `1.2`, `1.10`, `2` that is K = 2,
 * W = 2, giving `0100`, `0101`, `0102`, `0110`, `0200`. Numbers of equal
 * width compare like the parts did, so the order is kept. When every
 * version is one part, the number is kept (`V7` is `0007`, 7). Each file
 * records its Flyway version in the `flyway-version` header key, which is
 * how adoption matches `flyway_schema_history` rows to files.
 *
 * @module
 */

import type { FileEntry } from "./files.ts";
import {
  type Conversion,
  type ConvertedFile,
  decodeSource,
  eachSource,
  padVersion,
  renderFile,
} from "./import_common.ts";

const MIGRATION = /^([VU])(\d+(?:[._]\d+)*)__(.+)\.sql$/;
const CONF = /^(.+\.sql)\.conf$/;
const PLACEHOLDER = /\$\{[A-Za-z_][\w.:-]*\}/;

/** A Flyway version's parts as numbers, trailing zero parts dropped (`1.0` is `1`). */
export function flywayParts(version: string): bigint[] {
  const parts = version.split(/[._]/).map((p) => BigInt(p));
  while (parts.length > 1 && parts[parts.length - 1] === 0n) parts.pop();
  return parts;
}

/** Flyway's order of two versions' parts (negative, 0 or positive); a missing part counts as 0. */
export function compareFlywayParts(a: readonly bigint[], b: readonly bigint[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0n) - (b[i] ?? 0n);
    if (d !== 0n) return d < 0n ? -1 : 1;
  }
  return 0;
}

/** The canonical text of a Flyway version, for matching (`1_01.0` is `1.1`). */
export function flywayKey(version: string): string {
  return flywayParts(version).join(".");
}

/**
 * The strata version text of every Flyway version in `versions` (keyed by
 * `flywayKey`), by the mapping in the module comment. Order-preserving.
 */
export function mapFlywayVersions(versions: readonly string[]): Map<string, string> {
  const parsed = versions.map((v) => ({ key: flywayKey(v), parts: flywayParts(v) }));
  const k = Math.max(1, ...parsed.map((p) => p.parts.length));
  const w = Math.max(1, ...parsed.flatMap((p) => p.parts.map((n) => n.toString().length)));
  const out = new Map<string, string>();
  for (const p of parsed) {
    if (k === 1) {
      out.set(p.key, padVersion(p.parts[0], Math.max(4, w)));
      continue;
    }
    const parts = [...p.parts, ...Array(k - p.parts.length).fill(0n)];
    out.set(p.key, parts.map((n) => padVersion(n, w)).join(""));
  }
  return out;
}

interface Script {
  readonly entry: FileEntry;
  readonly text: string;
  readonly kind: "V" | "U";
  readonly version: string;
  readonly description: string;
}

/** Convert a Flyway `locations` directory's entries. Never throws; see `Conversion`. */
export function convertFlyway(entries: readonly FileEntry[]): Conversion {
  const notes: string[] = [];
  const refusals: string[] = [];
  const scripts: Script[] = [];
  const confs = new Map<string, FileEntry>();
  const walk = {
    name: MIGRATION,
    what: "versioned Flyway migration",
    notes,
    refusals,
    other: (entry: FileEntry) => keepOther(entry, { confs, notes }),
  };
  eachSource(entries, walk, (entry, { text, match }) => {
    const kind = match[1] as "V" | "U";
    scripts.push({ entry, text, kind, version: match[2], description: match[3] });
  });
  const mapping = mapFlywayVersions(scripts.map((s) => s.version));
  const files = scripts.flatMap((s) =>
    convertScript(s, { mapping, conf: confs.get(s.entry.name), notes, refusals })
  );
  for (const [script] of confs) {
    if (!scripts.some((s) => s.entry.name === script)) {
      notes.push(`"${script}.conf" belongs to no versioned migration: not carried over`);
    }
  }
  refuseUndoWithoutVersioned(entries, refusals);
  return { tool: "flyway", files, notes, refusals };
}

/** Keep a `.conf` file for its script, note a repeatable one; false for any other file. */
function keepOther(
  entry: FileEntry,
  at: { confs: Map<string, FileEntry>; notes: string[] },
): boolean {
  const conf = CONF.exec(entry.name);
  if (conf) {
    at.confs.set(conf[1], entry);
    return true;
  }
  if (!/^R__/.test(entry.name)) return false;
  at.notes.push(`"${entry.name}" is a repeatable migration: strata has none, not carried over`);
  return true;
}

function convertScript(
  s: Script,
  ctx: {
    mapping: Map<string, string>;
    conf: FileEntry | undefined;
    notes: string[];
    refusals: string[];
  },
): ConvertedFile[] {
  const noTransaction = ctx.conf ? readConf(ctx.conf, ctx) : false;
  if (PLACEHOLDER.test(s.text)) {
    ctx.notes.push(
      `"${s.entry.name}" uses a \${placeholder}: strata does not replace Flyway placeholders`,
    );
  }
  const version = ctx.mapping.get(flywayKey(s.version))!;
  const header = [
    ["flyway-version", flywayKey(s.version)],
    ["transaction", noTransaction ? "false" : undefined],
  ] as const;
  const name = `${version}_${s.description}.${s.kind === "V" ? "up" : "down"}.sql`;
  const provenance = `imported from Flyway "${s.entry.name}"`;
  return [{ name, text: renderFile(provenance, header, s.text), source: s.entry.name }];
}

/** True when the `.conf` file says `executeInTransaction=false`; other keys become notes. */
function readConf(conf: FileEntry, ctx: { notes: string[]; refusals: string[] }): boolean {
  const text = decodeSource(conf, ctx.refusals) ?? "";
  let noTransaction = false;
  for (const line of text.split("\n").map((l) => l.trim())) {
    if (line === "" || line.startsWith("#")) continue;
    const [key, value] = line.split("=").map((p) => p.trim());
    if (key === "executeInTransaction" && value === "false") noTransaction = true;
    else if (key !== "executeInTransaction") {
      ctx.notes.push(`"${conf.name}": "${line}" not carried over`);
    }
  }
  return noTransaction;
}

/** A refusal for each U script whose version has no V script (read from the names alone). */
function refuseUndoWithoutVersioned(entries: readonly FileEntry[], refusals: string[]): void {
  const scripts = entries.map((e) => MIGRATION.exec(e.name)).filter((m) => m !== null)
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const versioned = new Set(scripts.filter((m) => m[1] === "V").map((m) => flywayKey(m[2])));
  for (const m of scripts) {
    if (m[1] === "U" && !versioned.has(flywayKey(m[2]))) {
      refusals.push(`"${m[0]}" undoes version ${m[2]}, which has no V script`);
    }
  }
}
