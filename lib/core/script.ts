/**
 * Render each step as the exact texts sent to the server, and a whole plan
 * as the `--dry-run` script. The runner executes these texts and `--dry-run`
 * prints them, so what is printed is what runs. Pure.
 *
 * Every file starts from the same session state: after each file (and
 * between the files of one `--single-transaction` batch) the session is put
 * back as strata prepared it (`ctx.restore`), so the resulting schema
 * does not depend on how migrations were batched.
 *
 * @module
 */

import { substituteEnv } from "./env_subst.ts";
import { type Header, headerSettings } from "./header_keys.ts";
import type { StampChange } from "./plan_stamp.ts";
import { RESTORE_SESSION, SESSION_SETTINGS } from "./session_sql.ts";
import type { MigrationFile, Plan, Step } from "./types.ts";
import { PIN_SEARCH_PATH, type TableContext } from "./version_table.ts";
import {
  renderBatchRecord,
  renderMarkFinished,
  renderMarkStarted,
  renderMarkStatement,
  renderPrepareRecord,
  renderRecord,
  renderStamp,
} from "./version_rows.ts";

/** What the rendering needs besides the step. */
export interface ScriptContext extends TableContext {
  /**
   * What puts the session back after each file: the form for the server
   * when it is known (`restoreSessionFor`), else `RESTORE_SESSION`.
   */
  readonly restore?: string;
}

/** A step's SQL split where the file's body sits, so error positions can be mapped. */
export interface StepSql {
  readonly prefix: string;
  readonly body: string;
  /** strata's bookkeeping after the body; an error positioned here is strata's, not the file's. */
  readonly suffix: string;
}

/** The session restore of `ctx`. */
export function restoreOf(ctx: ScriptContext): string {
  return ctx.restore ?? RESTORE_SESSION;
}

/** `SET LOCAL` lines for a file's timeouts (empty when it sets none). */
export function renderSetLocal(header: Header): string {
  let out = "";
  for (const [name, ms] of headerSettings(header)) {
    if (ms !== undefined) out += `SET LOCAL ${name} = '${ms}ms';\n`;
  }
  return out;
}

/**
 * A statement mark of a statement-by-statement file runs in a transaction
 * of its own in the file's session: as the connecting role, under a pinned
 * search_path and the session's own timeouts, whatever the file did with
 * SET ROLE, search_path or `SET statement_timeout = '1ms'` (all only for
 * the rest of the mark's transaction).
 */
const OWN_STATEMENTS = PIN_SEARCH_PATH + "SET LOCAL SESSION AUTHORIZATION DEFAULT;\n" +
  "SET LOCAL statement_timeout TO DEFAULT;\nSET LOCAL lock_timeout TO DEFAULT;\n";

/** Fire the file's deferred constraint checks now, before the session is put back. */
const CHECK_DEFERRED = "SET CONSTRAINTS ALL IMMEDIATE;\n";

/**
 * The text of a transactional step: BEGIN; SET LOCAL timeouts; the file; the
 * session restored; the version-table and log writes under a pinned
 * search_path; COMMIT. The body is followed by a line break and `;` so a
 * last statement without `;` or a trailing `--` comment still ends.
 *
 * The restore runs inside the file's transaction: a committed file leaves
 * the session as strata prepared it (settings made in a transaction persist
 * when it commits, and a failed one rolls them all back), and strata's
 * writes after it run as the connecting role under the session's own
 * timeouts, whatever the file did with SET ROLE, search_path or
 * `SET statement_timeout = '1ms'`.
 *
 * The restore runs once more after COMMIT: a deferred trigger can defer its
 * own events again (`SET CONSTRAINTS ALL DEFERRED`), and those fire at COMMIT
 * itself, after the first restore, where a `set_config(..., false)` or
 * `SET ROLE` in them would outlive the file (found by an attack review).
 *
 * Deferred constraints and constraint triggers are checked when the file's
 * SQL ends (`CHECK_DEFERRED`), under the file's own role and settings, as
 * they would be at its COMMIT without strata. Settings that act at COMMIT
 * itself (`SET LOCAL synchronous_commit = off`) end with the restore.
 *
 * Inside an outer transaction (a `--single-transaction` batch) the step is
 * only SET LOCAL, the file, the deferred checks and the restore (so a batch
 * gives what files run one by one give): the batch records every step at
 * its end (`renderBatchEnd`).
 */
export function renderTransactionalStep(
  step: Step,
  ctx: ScriptContext,
  options: { inOuterTransaction?: boolean } = {},
): StepSql {
  const file = stepFile(step);
  const body = substituteEnv(file, file.runMode.body).text;
  if (options.inOuterTransaction === true) {
    return {
      prefix: renderSetLocal(file.header),
      body,
      suffix: "\n;\n" + CHECK_DEFERRED + restoreOf(ctx),
    };
  }
  return {
    prefix: "BEGIN;\n" + renderSetLocal(file.header),
    body,
    suffix: "\n;\n" + CHECK_DEFERRED + restoreOf(ctx) + PIN_SEARCH_PATH + renderRecord(step, ctx) +
      "COMMIT;\n" + restoreOf(ctx),
  };
}

/**
 * The end of a `--single-transaction` batch: every step recorded in one
 * statement, COMMIT, and the restore again for what fired at COMMIT. Each
 * step ended with the restore, so the writes run as the connecting role
 * under the session's own timeouts.
 */
export function renderBatchEnd(steps: readonly Step[], ctx: ScriptContext): string {
  return PIN_SEARCH_PATH + renderBatchRecord(steps, ctx) + "COMMIT;\n" + restoreOf(ctx);
}

/** The file a step runs: the up file, or the down file of a down step. */
export function stepFile(step: Step): MigrationFile {
  return step.kind === "up" ? step.migration.up : step.migration.down!;
}

/** `SET` (session) lines for a statement-by-statement file's timeouts. */
export function renderSessionTimeouts(header: Header): string {
  return renderSetLocal(header).replaceAll("SET LOCAL ", "SET ");
}

/**
 * The mark before statement `index` of a statement-by-statement step, or ""
 * when none is written there: before the first statement (the started row
 * covers it) and inside the file's own transaction block (an interruption
 * there rolls the block back, so the mark before its BEGIN is the truth). It
 * runs in a transaction of its own, as the connecting role.
 */
export function renderStatementMark(step: Step, index: number, ctx: ScriptContext): string {
  const blocks = stepFile(step).runMode.blockStarts;
  if (index === 0 || (blocks && blocks[index] !== null)) return "";
  return "BEGIN READ WRITE;\n" + OWN_STATEMENTS + renderMarkStatement(step, index, ctx) +
    "COMMIT;\n";
}

/** Statement `index` of a statement-by-statement file as sent: its text, variables substituted. */
export function statementText(file: MigrationFile, index: number): string {
  const s = file.statements[index];
  return substituteEnv(file, file.text.slice(s.sqlStart, s.end)).text;
}

/** The texts of a statement-by-statement step, in order, as the runner sends them. */
export function renderStatementSteps(step: Step, ctx: ScriptContext): string {
  const file = stepFile(step);
  let out = renderMarkStarted(step, ctx) + renderSessionTimeouts(file.header);
  file.statements.forEach((_s, k) => {
    out += renderStatementMark(step, k, ctx) + statementText(file, k) + "\n;\n";
  });
  return out + restoreOf(ctx) + renderMarkFinished(step, null, ctx);
}

/** Options of a whole script. */
export interface ScriptOptions {
  /** SQL that makes the version table ready first (creation or a format upgrade), or "". */
  readonly prepareTables: string;
  readonly singleTransaction?: boolean;
  /** A first comment line saying what the script does. */
  readonly title: string;
}

function scriptHead(ctx: ScriptContext, options: ScriptOptions): string {
  return `-- ${options.title}\n-- generated by strata ${ctx.strataVersion}; ` +
    "apply with: psql -v ON_ERROR_STOP=1 -f FILE\n\n" + SESSION_SETTINGS + "\n" +
    (options.prepareTables ? options.prepareTables + "\n" : "");
}

/**
 * Whether running `plan` records a step with the session's prepared
 * statements (`renderPrepareRecord`): a step in its own transaction does; a
 * `--single-transaction` batch and statement-by-statement files do not.
 */
export function usesPreparedRecord(plan: Plan, singleTransaction: boolean): boolean {
  return !singleTransaction && plan.steps.some((s) => stepFile(s).runMode.kind !== "none");
}

/**
 * The complete script of a plan for `--dry-run`: valid for
 * `psql -v ON_ERROR_STOP=1 -f -`, with the same texts the runner sends, each
 * file's SQL verbatim (a redundant BEGIN/COMMIT wrapper blanked) under a
 * comment naming the file and how it runs.
 */
export function renderPlanScript(plan: Plan, ctx: ScriptContext, options: ScriptOptions): string {
  const single = options.singleTransaction === true;
  let out = scriptHead(ctx, options) +
    (usesPreparedRecord(plan, single) ? renderPrepareRecord(ctx) + "\n" : "");
  if (single) out += "BEGIN;\n\n";
  for (const step of plan.steps) {
    const file = stepFile(step);
    out += `-- ${file.fileName}: ${file.runMode.reason}\n`;
    if (file.runMode.kind === "none") {
      out += renderStatementSteps(step, ctx);
    } else {
      const sql = renderTransactionalStep(step, ctx, { inOuterTransaction: single });
      out += sql.prefix + sql.body + sql.suffix;
    }
    out += "\n";
  }
  if (single) out += renderBatchEnd(plan.steps, ctx);
  return out;
}

/** The complete script of a stamp for `--dry-run`. */
export function renderStampScript(
  change: StampChange,
  ctx: ScriptContext,
  options: ScriptOptions,
): string {
  return scriptHead(ctx, options) + renderStamp(change, ctx);
}
