/**
 * Compare a live schema with a replay of the migrations it says it applied,
 * and classify each difference: added by hand, missing, changed, or not
 * compared (an object the replay could not build, or one the user ignores).
 * Pure.
 *
 * @module
 */

import { diffSnapshots, type Snapshot } from "./snapshot_diff.ts";
import { normalizeSnapshot } from "./snapshot_normalize.ts";

/** One difference between the live schema and the replay. */
export interface DriftItem {
  readonly kind: "added" | "missing" | "changed";
  /** The object, e.g. `column public.orders.note`. */
  readonly key: string;
  /** The live definition (null when missing there). */
  readonly live: string | null;
  /** The definition the migrations produce (null when they do not make it). */
  readonly expected: string | null;
}

/** A migration the scratch database could not replay, and why. */
export interface ReplayFailure {
  readonly version: string;
  readonly file: string;
  readonly error: string;
  /** The file's SQL, to tell which live objects it would have made. */
  readonly sql: string;
}

/** The outcome of a drift check. */
export interface DriftReport {
  readonly drift: readonly DriftItem[];
  /** Differences set aside: objects the replay could not build, with the reason. */
  readonly notCompared: ReadonlyArray<DriftItem & { readonly reason: string }>;
  /** Differences that match an ignore pattern. */
  readonly ignored: readonly DriftItem[];
}

/**
 * A glob over object keys: `*` matches any run of characters, `?` one. A
 * pattern without a kind (`public.legacy_*`) matches the name of any kind of
 * object; a pattern with one (`index *_tmp`) only that kind.
 */
export function matchesIgnore(key: string, pattern: string): boolean {
  const source = pattern.trim().replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  const re = new RegExp(`^${source}$`, "i");
  const name = key.replace(/^[a-z ]+? (?=[^ ]+$)/, "");
  const kind = key.slice(0, key.length - name.length);
  const bare = name.replace(/^public\./, "");
  return [key, kind + bare, name, bare].some((k) => re.test(k));
}

const TABLE_PARTS = /^(column|constraint|trigger|policy|rule|comment on column) ([^ ]+)\.[^.]+$/;

/** Whether `key`, or the table it belongs to (a column's, a trigger's …), matches a pattern. */
export function isIgnored(key: string, patterns: readonly string[]): boolean {
  const parent = TABLE_PARTS.exec(key);
  const keys = parent ? [key, `table ${parent[2]}`] : [key];
  return patterns.some((p) => keys.some((k) => matchesIgnore(k, p)));
}

/** Parse an ignore file: one pattern per line, `#` comments and blank lines skipped. */
export function parseIgnoreFile(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/#.*$/, "").trim()).filter(Boolean);
}

/** The simple name of an object key (`column public.orders.note` → `note`, and its table). */
function namesOf(key: string): string[] {
  const qualified = key.replace(/^[a-z ]+? (?=[^ ]+$)/, "").replace(/\(.*\)$/, "");
  return qualified.split(".").filter((p) => p !== "public");
}

function builtBy(key: string, failures: readonly ReplayFailure[]): ReplayFailure | undefined {
  const names = namesOf(key);
  return failures.find((f) =>
    names.some((n) => n.length > 1 && new RegExp(`\\b${escape(n)}\\b`, "i").test(f.sql))
  );
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Classify the differences between `live` and `replay` (both normalised
 * first, so print differences between PostgreSQL versions do not count).
 * An object the live database has and the replay lacks is "not compared"
 * when a migration that failed to replay mentions it (an extension the
 * scratch database lacks, say), never drift.
 */
export function compareSchemas(
  live: Snapshot,
  replay: Snapshot,
  options: { ignore: readonly string[]; failures: readonly ReplayFailure[] },
): DriftReport {
  const a = normalizeSnapshot(replay);
  const b = normalizeSnapshot(live);
  const drift: DriftItem[] = [];
  const notCompared: Array<DriftItem & { reason: string }> = [];
  const ignored: DriftItem[] = [];
  for (const d of diffSnapshots(a, b)) {
    const item: DriftItem = {
      kind: d.kind === "extra" ? "added" : d.kind,
      key: d.key,
      live: live[d.key] ?? null,
      expected: replay[d.key] ?? null,
    };
    const failure = item.kind === "missing" ? undefined : builtBy(d.key, options.failures);
    if (isIgnored(d.key, options.ignore)) ignored.push(item);
    else if (failure) {
      notCompared.push({
        ...item,
        reason: `${failure.file} could not be replayed: ${failure.error}`,
      });
    } else drift.push(item);
  }
  return { drift, notCompared, ignored };
}

/** One line per difference, for people. */
export function describeDrift(item: DriftItem): string[] {
  const name = item.key.replace(/ public\./, " ");
  if (item.kind === "added") return [`+ ${name}: added by hand (not made by any migration)`];
  if (item.kind === "missing") return [`- ${name}: missing (a migration makes it)`];
  return [
    `~ ${name}: changed`,
    `    migrations: ${oneLine(item.expected ?? "") || "(plain)"}`,
    `    live:       ${oneLine(item.live ?? "") || "(plain)"}`,
  ];
}

function oneLine(def: string): string {
  const s = def.replace(/\s+/g, " ").trim();
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}
