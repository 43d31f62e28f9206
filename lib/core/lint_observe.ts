/**
 * Join what `--trace` saw PostgreSQL do with what the rules predicted: mark
 * each finding observed or not, and add the findings only the trace can make
 * (a rewrite or a scan no rule predicted, a strong lock with no lock
 * timeout). Pure: the trace arrives as data.
 *
 * @module
 */

import { substituteEnv } from "./env_subst.ts";
import type { FileLint, Finding, StatementInfo } from "./lint_check.ts";
import { DML_KINDS } from "./lint_statements.ts";
import {
  isQueueingLock,
  type LockMode,
  lockModeName,
  lockRank,
  type RuleId,
  ruleOf,
} from "./lint_rules.ts";
import { locateByte } from "./location.ts";

/** A lock held on a relation that existed before the run. */
export interface RelationLock {
  /** The relation's run-wide key (`name`, or `schema.name` outside public). */
  readonly relation: string;
  readonly mode: LockMode;
}

/** What PostgreSQL did while one statement ran. */
export interface StatementTrace {
  /** Index of the statement in `file.statements`. */
  readonly index: number;
  /** The statement's first line in the file. */
  readonly line: number;
  /** Locks the statement took; null when it ran outside a transaction (they are gone by then). */
  readonly taken: readonly RelationLock[] | null;
  /** Every lock the transaction held after it; null outside a transaction. */
  readonly held: readonly RelationLock[] | null;
  /** Relations whose storage (relfilenode) changed: rewritten tables, rebuilt indexes. */
  readonly rewritten: readonly { readonly relation: string; readonly isTable: boolean }[];
  /** Tables it read in full (seq_scan grew); null outside a transaction. */
  readonly scanned: readonly string[] | null;
  readonly error: { readonly sqlstate: string; readonly message: string } | null;
}

/** What the trace of one file saw. */
export interface FileTrace {
  readonly fileName: string;
  /** `transaction` (rolled back afterwards) or `statements` (autocommit, one by one). */
  readonly mode: "transaction" | "statements";
  readonly statements: readonly StatementTrace[];
}

/**
 * The findings of `lint` with the trace's verdicts, plus the trace-only
 * findings, in statement order. Without a trace the findings are returned
 * as they are.
 */
export function observeFile(lint: FileLint, trace: FileTrace | undefined): Finding[] {
  if (!trace) return [...lint.findings];
  const byIndex = new Map(trace.statements.map((t) => [t.index, t]));
  // A relation name as the server saw it: `${NAME}` replaced by the value the trace ran with.
  const resolve = (relation: string) => substituteEnv(lint.file, relation).text;
  const out = lint.findings.map((f) => {
    const t = byIndex.get(f.statement);
    return t ? { ...f, ...confirm(f, t, resolve), evidence: describeTrace(t) } : f;
  });
  let timeoutWarned = out.some((f) => f.rule === "no-lock-timeout");
  for (const t of trace.statements) {
    const info = lint.statements[t.index];
    const own = out.filter((f) => f.statement === t.index)
      .map((f) => ({ ...f, relations: f.relations.map(resolve) }));
    const extra = unexpected(t, { info, own, timeoutWarned });
    if (extra.some((e) => e.rule === "no-lock-timeout")) timeoutWarned = true;
    for (const e of extra) out.push(traceFinding(lint, t, e));
  }
  return out.sort((a, b) => a.statement - b.statement);
}

function confirm(
  f: Finding,
  t: StatementTrace,
  resolve: (relation: string) => string,
): { observed: boolean } {
  const e = f.expect;
  const rel = f.relations[0] === undefined ? undefined : resolve(f.relations[0]);
  const checks: boolean[] = [];
  if (e.fails) checks.push(t.error?.sqlstate === e.fails);
  if (e.lock && t.held && rel !== undefined) {
    checks.push(t.held.some((l) => l.relation === rel && lockRank(l.mode) >= lockRank(e.lock!)));
  }
  if (e.rewrite) {
    checks.push(t.rewritten.some((r) => rel === undefined ? r.isTable : r.relation === rel));
  }
  if (e.scan && t.scanned && rel !== undefined) checks.push(t.scanned.includes(rel));
  return { observed: checks.length > 0 && checks.every(Boolean) };
}

/**
 * One line saying what the trace saw for a statement. Locks weaker than
 * SHARE UPDATE EXCLUSIVE (those every query takes) are left out.
 */
export function describeTrace(t: StatementTrace): string {
  const parts: string[] = [];
  if (t.error) parts.push(`failed: ${t.error.message} (SQLSTATE ${t.error.sqlstate})`);
  const taken = notableLocks(t);
  if (t.taken === null) parts.push("locks not observable (ran outside a transaction)");
  else if (taken.length) {
    parts.push(`took ${taken.map((l) => `${lockModeName(l.mode)} on "${l.relation}"`).join(", ")}`);
  }
  const tables = t.rewritten.filter((r) => r.isTable).map((r) => `"${r.relation}"`);
  if (tables.length) parts.push(`rewrote ${tables.join(", ")}`);
  if (t.scanned?.length) parts.push(`scanned ${t.scanned.map((s) => `"${s}"`).join(", ")}`);
  return parts.length ? parts.join("; ") : "no lock, rewrite or scan on an existing table";
}

/** The locks a statement took that conflict with more than plain reads and writes. */
export function notableLocks(t: StatementTrace): RelationLock[] {
  return (t.taken ?? []).filter((l) => lockRank(l.mode) >= lockRank("ShareUpdateExclusiveLock"));
}

interface Unexpected {
  readonly rule: RuleId;
  readonly message: string;
  readonly relation: string;
  readonly lock?: LockMode;
}

function unexpected(
  t: StatementTrace,
  at: { info: StatementInfo | undefined; own: readonly Finding[]; timeoutWarned: boolean },
): Unexpected[] {
  const predicts = (what: "rewrite" | "scan", rel: string) =>
    at.own.some((f) =>
      (f.expect[what] || (what === "scan" && f.expect.rewrite)) &&
      (f.relations.length === 0 || f.relations.includes(rel))
    );
  const kind = at.info?.kind ?? "";
  // TRUNCATE gives the table new, empty storage: not a rewrite of its rows.
  const rewrites = t.rewritten.filter((r) =>
    r.isTable && kind !== "TruncateStmt" && !predicts("rewrite", r.relation)
  ).map((r): Unexpected => ({
    rule: "unexpected-rewrite",
    relation: r.relation,
    message: `PostgreSQL rewrote "${r.relation}" (its relfilenode changed) although no rule ` +
      "predicted it: every row is copied under ACCESS EXCLUSIVE",
  }));
  const scans = (t.scanned ?? []).filter((rel) =>
    kind !== "" && !DML_KINDS.has(kind) && !predicts("scan", rel) &&
    t.held?.some((l) => l.relation === rel && lockRank(l.mode) >= lockRank("ShareLock"))
  ).map((rel): Unexpected => ({
    rule: "unexpected-scan",
    relation: rel,
    message: `PostgreSQL read all of "${rel}" while holding a lock that blocks writes, ` +
      "although no rule predicted a scan",
  }));
  const timeout = at.info && !at.info.lockTimeout && !at.timeoutWarned ? strongLock(t) : [];
  return [...rewrites, ...scans, ...timeout];
}

/** A trace-only no-lock-timeout finding for the first queueing lock the statement took. */
function strongLock(t: StatementTrace): Unexpected[] {
  const lock = t.taken?.find((l) => isQueueingLock(l.mode));
  if (!lock) return [];
  return [{
    rule: "no-lock-timeout",
    relation: lock.relation,
    lock: lock.mode,
    message: `PostgreSQL took ${lockModeName(lock.mode)} on "${lock.relation}" and no lock ` +
      "timeout is set: it waits behind any long transaction, and every query waits behind it",
  }];
}

function traceFinding(lint: FileLint, t: StatementTrace, u: Unexpected): Finding {
  const rule = ruleOf(u.rule);
  const s = lint.file.statements[t.index];
  const where = locateByte(lint.file.text, s.byteOffset);
  const ignore = lint.file.header.lintIgnore;
  return {
    rule: u.rule,
    severity: rule.severity,
    statement: t.index,
    line: where.line,
    column: where.column,
    lineText: where.lineText,
    message: u.message,
    relations: [u.relation],
    lock: rule.lock,
    safe: rule.safe,
    expect: u.lock ? { lock: u.lock } : rule.effect,
    suppressed: ignore?.rules.includes(u.rule) ? ignore.reason : null,
    observed: true,
    evidence: describeTrace(t),
  };
}
