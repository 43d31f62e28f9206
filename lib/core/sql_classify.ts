/**
 * Classify a statement by its upper-cased leading words, the way the lexer
 * records them: transaction control, a statement PostgreSQL refuses inside a
 * transaction block, or ordinary SQL. Words only, no parsing: a statement
 * whose words do not decide it counts as ordinary SQL. (The two psql kinds
 * of `StatementKind` are decided from the whole chunk, in `sql_chunk.ts`.)
 * Pure.
 *
 * @module
 */

/** What kind of statement a chunk is, for deciding how a file runs. */
export type StatementKind =
  | "sql"
  | "transaction-control"
  | "no-transaction"
  | "psql-meta"
  | "psql-copy";

const TX_CONTROL = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"]);

/**
 * Classify a statement by its upper-cased leading words: transaction control,
 * a statement that cannot run inside a transaction block, or ordinary SQL.
 * `w` may also hold `(` and `)` (to tell REINDEX and CLUSTER options from
 * names) and `"` for a quoted identifier, as the lexer records them.
 */
export function classifyWords(w: readonly string[]): StatementKind {
  const [a, b] = w;
  if (TX_CONTROL.has(a) || ((a === "START" || a === "PREPARE") && b === "TRANSACTION")) {
    return "transaction-control";
  }
  return isNoTransaction(w) ? "no-transaction" : "sql";
}

/**
 * The statements PostgreSQL refuses inside a transaction block
 * (PreventInTransactionBlock), as far as their words tell. CREATE and DROP
 * SUBSCRIPTION count always: whether they touch a replication slot depends on
 * options and state the words do not show, and running outside is safe.
 */
function isNoTransaction(w: readonly string[]): boolean {
  const [a, b, c, d] = w;
  switch (a) {
    case "VACUUM":
      return true;
    case "DISCARD":
      return b === "ALL";
    case "CLUSTER":
      return isClusterAll(w);
    case "REINDEX":
      return isReindexOutside(w);
    case "CREATE":
      return isDatabaseLevel(b) || (b === "INDEX" && c === "CONCURRENTLY") ||
        (b === "UNIQUE" && c === "INDEX" && d === "CONCURRENTLY");
    case "DROP":
      return isDatabaseLevel(b) || (b === "INDEX" && c === "CONCURRENTLY");
    case "ALTER":
      return isAlterOutside(w);
  }
  return false;
}

function isDatabaseLevel(b: string | undefined): boolean {
  return b === "DATABASE" || b === "TABLESPACE" || b === "SUBSCRIPTION";
}

function isAlterOutside(w: readonly string[]): boolean {
  switch (w[1]) {
    case "SYSTEM":
      return true;
    case "TABLE":
      return w.includes("DETACH") && w.includes("CONCURRENTLY");
    case "DATABASE":
      return hasPair(w, "SET", "TABLESPACE");
    case "SUBSCRIPTION":
      return isSubscriptionRefresh(w);
  }
  return false;
}

/**
 * ALTER SUBSCRIPTION s REFRESH PUBLICATION, and SET / ADD / DROP PUBLICATION
 * unless `WITH (refresh = false)`: they refresh the subscription's tables.
 */
function isSubscriptionRefresh(w: readonly string[]): boolean {
  const [verb, what] = [w[3], w[4]];
  if (what !== "PUBLICATION") return false;
  if (verb === "REFRESH") return true;
  return (verb === "SET" || verb === "ADD" || verb === "DROP") &&
    !hasPair(w, "REFRESH", "FALSE") && !hasPair(w, "REFRESH", "OFF");
}

/** Index just after the `( ... )` option list that starts at `k`, or `k` when there is none. */
function skipOptions(w: readonly string[], k: number): number {
  if (w[k] !== "(") return k;
  while (k < w.length && w[k] !== ")") k++;
  return k + 1;
}

/** REINDEX ... CONCURRENTLY (as keyword or option), and REINDEX SCHEMA / DATABASE / SYSTEM. */
function isReindexOutside(w: readonly string[]): boolean {
  const k = skipOptions(w, 1);
  for (let o = 2; o < k; o++) {
    if (w[o] === "CONCURRENTLY" && w[o + 1] !== "FALSE" && w[o + 1] !== "OFF") return true;
  }
  const target = w[k];
  return target === "SCHEMA" || target === "DATABASE" || target === "SYSTEM" ||
    w[k + 1] === "CONCURRENTLY";
}

/** CLUSTER without a table (`CLUSTER`, `CLUSTER VERBOSE`, `CLUSTER (VERBOSE)`) clusters every table. */
function isClusterAll(w: readonly string[]): boolean {
  let k = skipOptions(w, 1);
  if (w[k] === "VERBOSE") k++;
  return k >= w.length;
}

function hasPair(w: readonly string[], first: string, second: string): boolean {
  for (let i = 0; i + 1 < w.length; i++) if (w[i] === first && w[i + 1] === second) return true;
  return false;
}
