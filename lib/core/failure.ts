/**
 * Turn a failed or stopped run into one StrataError: where it failed (file,
 * line, column and a caret, mapped from the server's position), the server's
 * message, detail and hint, and what was and was not applied, both as lines
 * for people and as `partial` data for `--json` and `verify`. Pure.
 *
 * @module
 */

import type { DbServerErrorFields } from "./db_error.ts";
import { type ErrorCode, type PartialResult, StrataError } from "./errors.ts";
import { caretSnippet, locatePosition } from "./location.ts";
import { stepFile } from "./script.ts";
import type { Plan, Step } from "./types.ts";
import { RECORD_NAME_QUOTED } from "./version_rows.ts";

/** A signal that stops a run. */
export type Signal = "SIGINT" | "SIGTERM";

/** Where a failure happened. */
export interface FailurePoint {
  readonly plan: Plan;
  readonly index: number;
  /** The file text the position is mapped into. */
  readonly text: string;
  /**
   * Added to the server's 0-based character position to get a position in
   * `text`: negative when strata's own SQL came first in the message, positive
   * when the message was one statement from inside the file.
   */
  readonly offset: number;
  /** True when the error came from strata's own bookkeeping, not from the file. */
  readonly bookkeeping?: boolean;
  /** True when strata's own statement failed before the file was sent (nothing of it ran). */
  readonly beforeFile?: boolean;
  /** For a statement-by-statement step: which statement failed, and what remains. */
  readonly statement?: StatementFailure;
}

/** A failure inside a statement-by-statement step. */
export interface StatementFailure {
  /** 0-based index of the failed statement. */
  readonly index: number;
  readonly count: number;
  /**
   * 0-based index of the first statement whose effects are gone: the failed
   * one, or the BEGIN of the file's own transaction block it ran in (which
   * was rolled back).
   */
  readonly firstLost: number;
}

/** What the run was doing, for the summary. */
export interface FailureContext {
  /** Directory shown in front of file names. */
  readonly dir: string;
  readonly singleTransaction: boolean;
  readonly signal: Signal | null;
}

/** The error code of a stop by `signal`. */
export function signalCode(signal: Signal): ErrorCode {
  return signal === "SIGINT" ? "INTERRUPTED_BY_SIGINT" : "INTERRUPTED_BY_SIGTERM";
}

/** What a run applied and did not, when step `index` stopped it. */
export function partialResult(
  plan: Plan,
  index: number,
  options: { single: boolean; state: PartialResult["failedState"] },
): PartialResult {
  const labels = (steps: readonly Step[]) => steps.map((s) => s.migration.versionText);
  return {
    direction: plan.direction,
    applied: options.single ? [] : labels(plan.steps.slice(0, index)),
    failed: plan.steps[index]?.migration.versionText ?? null,
    failedState: options.state,
    notRun: options.single ? labels(plan.steps) : labels(plan.steps.slice(index + 1)),
    singleTransaction: options.single,
  };
}

/** The summary lines of a partial result. */
export function describePartial(p: PartialResult): string[] {
  const verb = p.direction === "up" ? "applied" : "reverted";
  if (p.singleTransaction) {
    return [`the single transaction was rolled back: nothing was ${verb} (${p.notRun.join(", ")})`];
  }
  const state = {
    "rolled back": `${p.failed} was rolled back: nothing of it remains`,
    "interrupted": `${p.failed} is marked interrupted`,
    "not started": `${p.failed} was not started`,
  };
  return [
    p.applied.length
      ? `${verb} before the failure: ${p.applied.join(", ")}`
      : `nothing was ${verb} before it`,
    ...(p.failed && p.failedState ? [state[p.failedState]] : []),
    p.notRun.length ? `not run: ${p.notRun.join(", ")}` : "no further migrations were planned",
  ];
}

/** The error for a run stopped by a signal before step `index` started. */
export function stoppedBefore(plan: Plan, index: number, ctx: FailureContext): StrataError {
  const signal = ctx.signal ?? "SIGTERM";
  const partial = partialResult(plan, index, {
    single: ctx.singleTransaction,
    state: "not started",
  });
  return new StrataError(
    signalCode(signal),
    `Stopped by ${signal} before "${stepFile(plan.steps[index]).fileName}"`,
    { details: describePartial(partial), partial },
  );
}

/**
 * Whether an error in a transactional step's text came from strata's own
 * bookkeeping after the file: positioned after the body (a syntax error
 * there is the file's only when the file leaves a statement open), or, with
 * no position, about strata's own tables.
 */
export function isBookkeepingError(
  err: DbServerErrorFields,
  step: {
    /** Character offset, in the message, where the body of the file ends. */
    readonly bodyEnd: number;
    readonly tableName: string;
    readonly bodyClosed: boolean;
  },
): boolean {
  // strata's prepared record statements, gone (a DEALLOCATE inside a function) or failing.
  if (RECORD_NAME_QUOTED.test(err.message)) return true;
  if (err.position !== undefined) {
    if (err.position - 1 < step.bodyEnd) return false;
    return err.sqlstate !== "42601" || step.bodyClosed;
  }
  return err.message.includes(`"${step.tableName}"`) ||
    err.message.includes(`"${step.tableName}_log"`) ||
    err.message.includes(` ${step.tableName} `) || err.message.endsWith(` ${step.tableName}`) ||
    err.message.endsWith(` ${step.tableName}_log`);
}

function joinPath(dir: string, name: string): string {
  return dir ? `${dir.replace(/\/+$/, "")}/${name}` : name;
}

/** "statement 1 of 3 was applied and remains", "statements 1 to 2 of 3 were ...", "no statement ...". */
function keptLine(kept: number, count: number): string {
  if (kept === 0) return "no statement of it remains";
  return kept === 1
    ? `statement 1 of ${count} was applied and remains`
    : `statements 1 to ${kept} of ${count} were applied and remain`;
}

function statementLine(s: StatementFailure): string {
  if (s.firstLost === s.index) {
    return `it runs outside a transaction: ${keptLine(s.index, s.count)}; ` +
      `statement ${s.index + 1} failed`;
  }
  return `statement ${s.index + 1} of ${s.count} failed inside the file's own transaction ` +
    `(opened by statement ${s.firstLost + 1}), which was rolled back: ` +
    keptLine(s.firstLost, s.count);
}

/** The StrataError for a server error that stopped step `at.index`. */
export function migrationFailure(
  err: DbServerErrorFields,
  at: FailurePoint,
  ctx: FailureContext,
): StrataError {
  const file = stepFile(at.plan.steps[at.index]);
  const path = joinPath(ctx.dir, file.fileName);
  // A statement-by-statement step knows the failing statement even when the server gives no
  // position (e.g. 25006 read-only): point at its start.
  const position = err.position ?? (at.statement ? 1 : undefined);
  const loc = position !== undefined && !at.bookkeeping
    ? locatePosition(at.text, position, -at.offset)
    : undefined;
  const details = [loc ? `at ${path}:${loc.line}:${loc.column}` : `in ${path}`];
  if (loc) details.push(...caretSnippet(loc));
  details.push(...serverDetails(err));
  if (at.statement) details.push(statementLine(at.statement));
  const partial = partialResult(at.plan, at.index, {
    single: ctx.singleTransaction,
    state: at.statement ? "interrupted" : "rolled back",
  });
  details.push(...describePartial(partial));
  const code = failureCode(err, at, ctx);
  return new StrataError(code, failureMessage(code, file.fileName, err, ctx.signal), {
    file: file.fileName,
    line: loc?.line,
    column: loc?.column,
    details,
    partial,
    hint: failureHint(code, file.fileName, err, at),
    cause: err,
  });
}

/** The detail lines the server's error gives: SQLSTATE, detail, context, and what 53200 means. */
function serverDetails(err: DbServerErrorFields): string[] {
  const details = [`SQLSTATE ${err.sqlstate}`];
  if (err.detail) details.push(`detail: ${err.detail}`);
  if (err.where) details.push(`context: ${err.where.split("\n")[0]}`);
  if (err.sqlstate === "53200") {
    details.push(
      "the server ran out of lock table space: one transaction touched too many objects; raise " +
        "max_locks_per_transaction, or run without --single-transaction",
    );
  }
  return details;
}

/** A cancel by a signal, a failure of strata's own write, or the migration's own failure. */
function failureCode(
  err: DbServerErrorFields,
  at: FailurePoint,
  ctx: FailureContext,
): ErrorCode {
  if (ctx.signal && err.sqlstate === "57014") return signalCode(ctx.signal);
  if (!at.bookkeeping) return "MIGRATION_FAILED";
  return err.sqlstate === "42501" ? "PERMISSION_DENIED" : "BOOKKEEPING_FAILED";
}

function failureMessage(
  code: ErrorCode,
  fileName: string,
  err: DbServerErrorFields,
  signal: Signal | null,
): string {
  if (code === "BOOKKEEPING_FAILED" || code === "PERMISSION_DENIED") {
    return `Cannot record "${fileName}" in the version table: ${err.message}`;
  }
  if (code === "MIGRATION_FAILED") return `Migration "${fileName}" failed: ${err.message}`;
  return `Stopped by ${signal} during "${fileName}": the running statement was cancelled`;
}

function failureHint(
  code: ErrorCode,
  fileName: string,
  err: DbServerErrorFields,
  at: FailurePoint,
): string | undefined {
  if (at.statement) {
    return `"${fileName}" is now marked interrupted. Inspect the database, finish or undo the ` +
      `rest by hand, then record the truth with "strata stamp VERSION"`;
  }
  if (code === "BOOKKEEPING_FAILED" || code === "PERMISSION_DENIED") {
    const what = at.beforeFile
      ? `strata could not prepare the statements that record each file, so "${fileName}" ` +
        "was not run. "
      : "The file's SQL ran, then strata's own write to its version table failed, so the " +
        "transaction was rolled back. ";
    return what +
      (err.sqlstate === "42501"
        ? "Grant the role INSERT, UPDATE and DELETE on the version and log tables"
        : at.beforeFile
        ? "This is strata's SQL, not the file's; please report it"
        : err.sqlstate === "25006"
        ? "The file made its transaction read-only; remove that statement"
        : RECORD_NAME_QUOTED.test(err.message)
        ? "The file deallocated strata's prepared statements (DEALLOCATE ALL inside a function " +
          "or DO block, where strata's check cannot see it); remove that statement"
        : "This is strata's SQL, not the file's; please report it");
  }
  return err.hint;
}
