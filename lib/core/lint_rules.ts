/**
 * The rules of `strata lint`: one entry per rule id, with its severity, the
 * lock or effect it warns about and the safe alternative. The ids are a
 * stable interface (users write them in `lint-ignore` headers): never rename
 * one. Pure data, plus the lock modes PostgreSQL reports.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import type { MigrationFile } from "./types.ts";
import { closestWord } from "./words.ts";

/** How bad a finding is: errors fail `lint` (exit 6); warnings only with `--strict`. */
export type Severity = "error" | "warning";

/** Every rule id. The first fifteen are the issue's; the rest are strata's additions. */
export type RuleId =
  | "index-not-concurrent"
  | "drop-index-not-concurrent"
  | "concurrently-in-transaction"
  | "foreign-key-validated"
  | "check-validated"
  | "set-not-null"
  | "volatile-default"
  | "column-type-rewrite"
  | "unique-constraint"
  | "required-column"
  | "no-lock-timeout"
  | "rename"
  | "drop-column-or-table"
  | "rewrite-maintenance"
  | "splitter-disagrees"
  | "syntax-error"
  | "unexpected-rewrite"
  | "unexpected-scan";

/** A table-level lock mode, as `pg_locks.mode` names it. */
export type LockMode =
  | "AccessShareLock"
  | "RowShareLock"
  | "RowExclusiveLock"
  | "ShareUpdateExclusiveLock"
  | "ShareLock"
  | "ShareRowExclusiveLock"
  | "ExclusiveLock"
  | "AccessExclusiveLock";

/** Lock modes from weakest to strongest (PostgreSQL's numbering, 1 to 8). */
export const LOCK_MODES: readonly LockMode[] = [
  "AccessShareLock",
  "RowShareLock",
  "RowExclusiveLock",
  "ShareUpdateExclusiveLock",
  "ShareLock",
  "ShareRowExclusiveLock",
  "ExclusiveLock",
  "AccessExclusiveLock",
];

/** A mode's strength: its place in `LOCK_MODES` (0 for ACCESS SHARE to 7 for ACCESS EXCLUSIVE). */
export function lockRank(mode: LockMode): number {
  return LOCK_MODES.indexOf(mode);
}

/**
 * True for the modes that `no-lock-timeout` is about (SHARE ROW EXCLUSIVE and
 * ACCESS EXCLUSIVE): waiting for one, a statement queues behind any long
 * transaction, and every later query on the table queues behind it.
 */
export function isQueueingLock(mode: LockMode): boolean {
  return mode === "AccessExclusiveLock" || mode === "ShareRowExclusiveLock";
}

/** `ACCESS EXCLUSIVE` for `AccessExclusiveLock`: the SQL name of a mode. */
export function lockModeName(mode: LockMode): string {
  return mode.replace(/Lock$/, "").replace(/([a-z])([A-Z])/g, "$1 $2").toUpperCase();
}

/** What a rule predicts PostgreSQL does, so that `--trace` can confirm it. */
export interface Effect {
  readonly lock?: LockMode;
  readonly rewrite?: boolean;
  readonly scan?: boolean;
  /** The statement fails with this SQLSTATE. */
  readonly fails?: string;
}

/** One rule. */
export interface Rule {
  readonly id: RuleId;
  readonly severity: Severity;
  /** What the rule looks for, for the README and `--json`. */
  readonly pattern: string;
  /** The lock it takes or what happens. */
  readonly lock: string;
  /** The safe alternative. */
  readonly safe: string;
  readonly effect: Effect;
  /** Reported only by `--trace`, from what PostgreSQL did. */
  readonly traceOnly?: boolean;
}

const AE: LockMode = "AccessExclusiveLock";

/** Every rule, in the README's order. */
export const RULES: readonly Rule[] = [
  {
    id: "index-not-concurrent",
    severity: "error",
    pattern: "CREATE INDEX on a table that existed before this run",
    lock: "SHARE: blocks writes for the whole build",
    safe: "CREATE INDEX CONCURRENTLY, alone in its file (strata runs it outside a transaction)",
    effect: { lock: "ShareLock", scan: true },
  },
  {
    id: "drop-index-not-concurrent",
    severity: "warning",
    pattern: "DROP INDEX",
    lock: "ACCESS EXCLUSIVE on the table",
    safe: "DROP INDEX CONCURRENTLY, alone in its file",
    effect: { lock: AE },
  },
  {
    id: "concurrently-in-transaction",
    severity: "error",
    pattern: "CONCURRENTLY in a file that runs in a transaction",
    lock: "fails at run time",
    safe: 'its own file, or "-- transaction: false" with no BEGIN around it',
    effect: { fails: "25001" },
  },
  {
    id: "foreign-key-validated",
    severity: "error",
    pattern: "ADD FOREIGN KEY without NOT VALID on an existing table",
    lock: "SHARE ROW EXCLUSIVE on both tables while both are scanned",
    safe: "NOT VALID, then VALIDATE CONSTRAINT in a later migration",
    effect: { lock: "ShareRowExclusiveLock", scan: true },
  },
  {
    id: "check-validated",
    severity: "error",
    pattern: "ADD CHECK without NOT VALID on an existing table",
    lock: "ACCESS EXCLUSIVE + full scan",
    safe: "NOT VALID, then VALIDATE CONSTRAINT in a later migration",
    effect: { lock: AE, scan: true },
  },
  {
    id: "set-not-null",
    severity: "error",
    pattern: "ALTER COLUMN ... SET NOT NULL on an existing table",
    lock: "ACCESS EXCLUSIVE + full scan",
    safe: "CHECK (c IS NOT NULL) NOT VALID, VALIDATE, then SET NOT NULL (PG 12+ skips the scan)",
    effect: { lock: AE, scan: true },
  },
  {
    id: "volatile-default",
    severity: "error",
    pattern: "ADD COLUMN with a volatile DEFAULT (or serial, identity, a stored generated column)",
    lock: "ACCESS EXCLUSIVE + table rewrite",
    safe: "a nullable column, then SET DEFAULT, then backfill in batches",
    effect: { lock: AE, rewrite: true },
  },
  {
    id: "column-type-rewrite",
    severity: "error",
    pattern: "ALTER COLUMN TYPE that is not binary-coercible",
    lock: "ACCESS EXCLUSIVE + rewrite + index rebuild",
    safe: "new column, dual write, backfill, swap (varchar to text is safe)",
    effect: { lock: AE, rewrite: true },
  },
  {
    id: "unique-constraint",
    severity: "error",
    pattern: "ADD UNIQUE / ADD PRIMARY KEY / ADD EXCLUDE on an existing table",
    lock: "ACCESS EXCLUSIVE during the index build",
    safe: "CREATE UNIQUE INDEX CONCURRENTLY, then ADD ... USING INDEX",
    effect: { lock: AE, scan: true },
  },
  {
    id: "required-column",
    severity: "error",
    pattern: "ADD COLUMN ... NOT NULL without a default",
    lock: "fails on a non-empty table; old INSERTs break",
    safe: "a nullable column, or a non-volatile default",
    effect: {},
  },
  {
    id: "no-lock-timeout",
    severity: "warning",
    pattern: "ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE on an existing table, no lock-timeout",
    lock: "queues behind long transactions, and everything after it queues behind it",
    safe: '"-- lock-timeout: 2s" in the header (strata retries lock timeouts)',
    effect: { lock: AE },
  },
  {
    id: "rename",
    severity: "warning",
    pattern: "RENAME COLUMN / RENAME TO of a table or view",
    lock: "ACCESS EXCLUSIVE (brief); running code breaks",
    safe: "expand/contract: add, dual write, switch, drop later",
    effect: { lock: AE },
  },
  {
    id: "drop-column-or-table",
    severity: "warning",
    pattern: "DROP COLUMN / DROP TABLE",
    lock: "ACCESS EXCLUSIVE (brief); data loss, running code breaks",
    safe: "stop using it first, drop it in a later release",
    effect: { lock: AE },
  },
  {
    id: "rewrite-maintenance",
    severity: "error",
    pattern: "VACUUM FULL, CLUSTER, REINDEX or DETACH PARTITION without CONCURRENTLY, " +
      "SET TABLESPACE, SET LOGGED / UNLOGGED",
    lock: "ACCESS EXCLUSIVE (rewrite)",
    safe: "REINDEX CONCURRENTLY, DETACH ... CONCURRENTLY, pg_repack",
    effect: { lock: AE, rewrite: true },
  },
  {
    id: "splitter-disagrees",
    severity: "error",
    pattern: "strata's statement split differs from PostgreSQL's parser",
    lock: "the file would run differently than it reads",
    safe: "fix the file where the two boundaries differ",
    effect: {},
  },
  {
    id: "syntax-error",
    severity: "error",
    pattern: "PostgreSQL's parser (version 17) rejects a statement",
    lock: "fails at run time",
    safe: "fix the statement (or lint-ignore it if it uses newer syntax)",
    effect: { fails: "42601" },
  },
  {
    id: "unexpected-rewrite",
    severity: "error",
    pattern: "--trace: a table that existed before this run was rewritten, and no rule said so",
    lock: "ACCESS EXCLUSIVE + table rewrite",
    safe: "find what rewrites it (a type change, a default) and use the safe form",
    effect: { rewrite: true },
    traceOnly: true,
  },
  {
    id: "unexpected-scan",
    severity: "warning",
    pattern: "--trace: DDL scanned a table that existed before this run, and no rule said so",
    lock: "the statement's lock is held for the whole scan",
    safe: "find what validates or rebuilds it and use the NOT VALID / CONCURRENTLY form",
    effect: { scan: true },
    traceOnly: true,
  },
];

const BY_ID = new Map(RULES.map((r) => [r.id, r] as const));

/** The rule with `id`; throws `INTERNAL` for an id that is not in the table. */
export function ruleOf(id: RuleId): Rule {
  const rule = BY_ID.get(id);
  if (!rule) throw new StrataError("INTERNAL", `Cannot find lint rule "${id}"`);
  return rule;
}

/** True when `id` names a rule. */
function isRuleId(id: string): id is RuleId {
  return BY_ID.has(id as RuleId);
}

/**
 * Check a file's `lint-ignore` header: every id must name a rule. Throws
 * `HEADER_BAD_VALUE` naming the file, the line of the key and the closest id.
 * Returns the ids (empty when the header has none).
 */
export function checkLintIgnore(file: MigrationFile): readonly RuleId[] {
  const ignore = file.header.lintIgnore;
  if (!ignore) return [];
  const unknown = ignore.rules.find((r) => !isRuleId(r));
  if (unknown === undefined) return ignore.rules as RuleId[];
  const line = headerLine(file.text, "lint[-_]ignore");
  const near = closestWord(unknown, RULES.map((r) => r.id), { prefix: true });
  throw new StrataError(
    "HEADER_BAD_VALUE",
    `Cannot read header of "${file.fileName}"${line ? ` line ${line}` : ""}: ` +
      `lint-ignore names unknown rule "${unknown}"`,
    {
      file: file.fileName,
      line,
      hint: near
        ? `Did you mean "${near}"? The rule ids are listed in the README ("Lint")`
        : 'The rule ids are listed in the README ("Lint") and by "strata lint --help"',
    },
  );
}

function headerLine(text: string, key: string): number | undefined {
  const m = new RegExp(`^[ \\t]*--[ \\t]*${key}[ \\t]*:`, "im").exec(text);
  return m ? text.slice(0, m.index).split("\n").length : undefined;
}
