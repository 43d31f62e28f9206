/**
 * Compare two schema snapshots and say, in words, what differs. Pure.
 *
 * @module
 */

/** Object key (`column public.projects.archived_at`) to its definition. */
export type Snapshot = Readonly<Record<string, string>>;

/** One difference between an expected and an actual snapshot. */
export interface SnapshotDifference {
  readonly kind: "extra" | "missing" | "changed";
  readonly key: string;
  readonly line: string;
}

/**
 * The differences of `actual` from `expected`, in key order: objects that are
 * "still there" (in actual only), "missing" (in expected only) and "changed".
 * Names in `public` are shown without the schema. Empty when equal.
 */
export function diffSnapshots(expected: Snapshot, actual: Snapshot): SnapshotDifference[] {
  const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  const out: SnapshotDifference[] = [];
  for (const key of keys) {
    const a = expected[key];
    const b = actual[key];
    if (a === b) continue;
    const name = displayName(key);
    if (a === undefined) {
      out.push({ kind: "extra", key, line: `${name}${brief(b)} is still there` });
    } else if (b === undefined) {
      out.push({ kind: "missing", key, line: `${name}${brief(a)} is missing` });
    } else {
      out.push({ kind: "changed", key, line: `${name} changed: was ${short(a)}, now ${short(b)}` });
    }
  }
  return out;
}

function displayName(key: string): string {
  return key.replace(/ public\./, " ");
}

function brief(def: string): string {
  if (def === "" || def.includes("\n") || def.length > 80) return "";
  return ` (${def})`;
}

function short(def: string): string {
  const one = def.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `"${one.slice(0, 117)}..."` : `"${one}"`;
}
