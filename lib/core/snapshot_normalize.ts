/**
 * Normalise what differs between PostgreSQL versions only in print, so that
 * a snapshot taken on the embedded database (PostgreSQL 18) and one from a
 * server (say 15) of the same schema compare equal. Pure.
 *
 * Known differences, each covered by a fixture in tests/fixtures/drift/:
 * - `pg_get_viewdef` qualifies column names with their table up to 15
 *   (`accounts.balance`) and not from 16 (`balance`); the same for rules.
 *
 * @module
 */

import type { Snapshot } from "./snapshot_diff.ts";

const QUERY_KEYS = /^(view|materialized view|rule) /;
// A qualifier: an identifier (bare or quoted) followed by a dot and another identifier.
const QUALIFIER = /(?<![\w$."])(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")\.(?=[a-z_"])/g;

/** A view or rule definition with qualifiers dropped and white space folded. */
export function normalizeQuery(def: string): string {
  return def.replace(QUALIFIER, "").replace(/\s+/g, " ").trim();
}

/** `snapshot` with every definition normalised for comparison across versions. */
export function normalizeSnapshot(snapshot: Snapshot): Snapshot {
  const out: Record<string, string> = {};
  for (const [key, def] of Object.entries(snapshot)) {
    out[key] = QUERY_KEYS.test(key) ? normalizeQuery(def) : def;
  }
  return out;
}
