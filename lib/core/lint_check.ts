/**
 * Lint one migration file: walk its parsed statements in order with the run's
 * state, add the file-level findings (no lock timeout, syntax errors, the
 * splitter's disagreement), place each finding at its line and column, and
 * apply the file's `lint-ignore` header. Pure.
 *
 * Invariant: findings come in statement order, and every finding points into
 * the statement it is about (`statement` is its index in `file.statements`).
 *
 * @module
 */

import {
  type LintState,
  type PredictedLock,
  type RawFinding,
  type StatementContext,
} from "./lint_context.ts";
import {
  checkLintIgnore,
  type Effect,
  isQueueingLock,
  lockModeName,
  type RuleId,
  ruleOf,
  type Severity,
} from "./lint_rules.ts";
import { lintStatement } from "./lint_statements.ts";
import { locateByte } from "./location.ts";
import { field, flag, list, path, str, type Tree } from "./lint_tree.ts";
import type { MigrationFile } from "./types.ts";

/** One statement of a file as the parser saw it, aligned with `file.statements`. */
export interface ParsedStatement {
  /** The statement node (`{"IndexStmt": ...}`), or null when it did not parse. */
  readonly tree: Tree | null;
  /** Byte offset in the file that the tree's locations count from. */
  readonly base: number;
  /** Why it did not parse, and the byte offset in the file where. */
  readonly error?: { readonly message: string; readonly at: number };
}

/** A file as the parser saw it. */
export interface ParsedFile {
  readonly statements: readonly ParsedStatement[];
  /** Where strata's split and the parser's differ (a `splitter-disagrees` finding), if they do. */
  readonly disagreement: RawFinding | null;
}

/** A finding, placed in its file. */
export interface Finding {
  readonly rule: RuleId;
  readonly severity: Severity;
  /** Index of the statement in `file.statements`. */
  readonly statement: number;
  readonly line: number;
  readonly column: number;
  /** The text of the line, for the caret. */
  readonly lineText: string;
  readonly message: string;
  readonly relations: readonly string[];
  readonly lock: string;
  readonly safe: string;
  /** What `--trace` should see when the finding is right. */
  readonly expect: Effect;
  /** The `lint-ignore` reason when the header suppresses the rule, else null. */
  readonly suppressed: string | null;
  /** Null without `--trace`; else whether the trace saw what the rule predicts. */
  readonly observed: boolean | null;
  /** What the trace saw, in words (empty without `--trace`). */
  readonly evidence: string;
}

/** What the trace needs to know about each statement. */
export interface StatementInfo {
  /** The parse node's type (`AlterTableStmt`), empty when it did not parse. */
  readonly kind: string;
  /** True when a lock timeout is in effect while it runs. */
  readonly lockTimeout: boolean;
  readonly locks: readonly PredictedLock[];
}

/** The lint of one file. */
export interface FileLint {
  readonly file: MigrationFile;
  readonly findings: readonly Finding[];
  readonly statements: readonly StatementInfo[];
}

/** How to lint a file. */
export interface LintFileOptions {
  readonly state: LintState;
  /** The server's major version, for version-dependent advice. */
  readonly pgVersion: number;
  /** Walk the file only for the facts it leaves (its `lint-ignore` header is not checked). */
  readonly factsOnly?: boolean;
}

/**
 * Lint `file` (parsed as `parsed`) with `options.state`, which it updates for
 * the files after it. Throws `HEADER_BAD_VALUE` when the `lint-ignore` header
 * names an unknown rule. A file with no statements yields no findings.
 */
export function lintFile(
  file: MigrationFile,
  parsed: ParsedFile,
  options: LintFileOptions,
): FileLint {
  const ignored = new Set(options.factsOnly ? [] : checkLintIgnore(file));
  const { raw, infos } = walkStatements(file, parsed, options);
  if (parsed.disagreement) {
    const at = parsed.disagreement.at;
    const k = file.statements.findLastIndex((s) => s.byteOffset <= at);
    raw.push({ finding: parsed.disagreement, statement: Math.max(k, 0) });
  }
  raw.sort((a, b) => a.statement - b.statement || a.finding.at - b.finding.at);
  const reason = file.header.lintIgnore?.reason ?? "";
  const findings = raw.map(({ finding, statement }) =>
    place(restorePlaceholders(finding, file.header.env ?? []), {
      text: file.text,
      statement,
      reason: ignored.has(finding.rule) ? reason : null,
    })
  );
  return { file, findings, statements: infos };
}

type Placed = { finding: RawFinding; statement: number };

/** Lint each statement in order, tracking the lock timeout; one no-lock-timeout per file. */
function walkStatements(
  file: MigrationFile,
  parsed: ParsedFile,
  options: LintFileOptions,
): { raw: Placed[]; infos: StatementInfo[] } {
  let timeout = (file.header.lockTimeout ?? 0) > 0;
  let warnedTimeout = false;
  const raw: Placed[] = [];
  const infos: StatementInfo[] = [];
  file.statements.forEach((s, k) => {
    const p = parsed.statements[k];
    if (!p?.tree) {
      if (p?.error) raw.push({ finding: syntaxError(p.error), statement: k });
      infos.push({ kind: "", lockTimeout: timeout, locks: [] });
      return;
    }
    const inTransaction = file.runMode.kind === "transaction" ||
      (file.runMode.blockStarts?.[k] ?? null) !== null;
    const { state, pgVersion } = options;
    const c: StatementContext = { state, pgVersion, inTransaction, at: s.byteOffset, base: p.base };
    const result = lintStatement(p.tree, c);
    for (const finding of result.findings) raw.push({ finding, statement: k });
    const strong = result.locks.find((l) => isQueueingLock(l.mode));
    if (strong && !timeout && !warnedTimeout) {
      raw.push({ finding: noLockTimeout(result.kind, strong, c), statement: k });
      warnedTimeout = true;
    }
    infos.push({ kind: result.kind, lockTimeout: timeout, locks: result.locks });
    timeout = lockTimeoutAfter(result.kind, p.tree, { current: timeout, inTransaction });
  });
  return { raw, infos };
}

function syntaxError(error: { message: string; at: number }): RawFinding {
  return {
    rule: "syntax-error",
    at: error.at,
    message: `PostgreSQL's parser rejects this statement: ${error.message}`,
    relations: [],
  };
}

const STATEMENT_WORDS: Readonly<Record<string, string>> = {
  AlterTableStmt: "ALTER TABLE",
  RenameStmt: "RENAME",
  DropStmt: "DROP",
  CreateTrigStmt: "CREATE TRIGGER",
  TruncateStmt: "TRUNCATE",
  LockStmt: "LOCK",
  CreateStmt: "CREATE TABLE",
  RefreshMatViewStmt: "REFRESH MATERIALIZED VIEW",
};

function noLockTimeout(kind: string, lock: PredictedLock, c: StatementContext): RawFinding {
  return {
    rule: "no-lock-timeout",
    at: c.at,
    message: `${STATEMENT_WORDS[kind] ?? "This statement"} takes ${lockModeName(lock.mode)} on ` +
      `"${lock.relation}" and no lock timeout is set: it waits behind any long transaction on ` +
      `"${lock.relation}", and every query on it waits behind it`,
    relations: [lock.relation],
    expect: { lock: lock.mode },
  };
}

/** Whether a lock timeout is in effect after `tree` (a `SET lock_timeout` changes it). */
function lockTimeoutAfter(
  kind: string,
  tree: Tree,
  at: { current: boolean; inTransaction: boolean },
): boolean {
  const body = field(tree, kind);
  if (kind !== "VariableSetStmt" || str(field(body, "name")) !== "lock_timeout") return at.current;
  // SET LOCAL outside a transaction block has no effect (the server only warns).
  if (flag(field(body, "is_local")) && !at.inTransaction) return at.current;
  if (str(field(body, "kind")) !== "VAR_SET_VALUE") return false;
  const value = field(list(field(body, "args"))[0], "A_Const");
  const text = field(value, "ival") !== undefined
    ? String(path(value, "ival", "ival") ?? 0)
    : str(path(value, "sval", "sval")) ?? "0";
  return !/^\s*0+(?:\.0*)?\s*(?:us|ms|s|min|h|d)?\s*$/i.test(text);
}

/**
 * The parser saw each `${NAME}` of the env header as the identifier
 * `_NAME__` (see lint/parse.ts): show it as written.
 */
function restorePlaceholders(raw: RawFinding, names: readonly string[]): RawFinding {
  if (names.length === 0) return raw;
  // Unquoted, the parser folded the identifier to lower case.
  const restore = (text: string) =>
    names.reduce((out, name) => out.replace(new RegExp(`_${name}__`, "gi"), `\${${name}}`), text);
  return { ...raw, message: restore(raw.message), relations: raw.relations.map(restore) };
}

function place(
  raw: RawFinding,
  at: { text: string; statement: number; reason: string | null },
): Finding {
  const rule = ruleOf(raw.rule);
  const where = locateByte(at.text, raw.at);
  return {
    rule: raw.rule,
    severity: raw.severity ?? rule.severity,
    statement: at.statement,
    line: where.line,
    column: where.column,
    lineText: where.lineText,
    message: raw.message,
    relations: raw.relations,
    lock: rule.lock,
    safe: raw.safe ?? rule.safe,
    expect: raw.expect ?? rule.effect,
    suppressed: at.reason,
    observed: null,
    evidence: "",
  };
}
