/**
 * Decide, before anything runs, which way a file runs (DESIGN.md, "Which way
 * a file runs"). Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import type { Header } from "./header.ts";
import type { Statement } from "./sql_lexer.ts";
import type { RunMode } from "./types.ts";
import { RECORD_NAME_BARE, RECORD_NAME_QUOTED } from "./version_rows.ts";

const BEGIN_FORMS = ["BEGIN", "BEGIN TRANSACTION", "BEGIN WORK", "START TRANSACTION"];
const COMMIT_FORMS = ["COMMIT", "COMMIT TRANSACTION", "COMMIT WORK", "END", "END TRANSACTION"]
  .concat(["END WORK"]);

/**
 * The run mode of a file from its statements (non-empty ones, in order) and
 * its header. Throws `RUN_MODE_REFUSED` naming file, line and the fix when the
 * file mixes transaction control or no-transaction statements with other SQL,
 * and `PSQL_FEATURE` for psql meta-commands and `COPY ... FROM stdin`.
 */
export function decideRunMode(
  text: string,
  statements: readonly Statement[],
  options: { header: Header; file: string },
): RunMode {
  const { header, file } = options;
  refusePsqlFeatures(statements, file);
  refuseSettings(statements, file);
  if (header.transaction === false) {
    return statementByStatement(
      'the header says "transaction: false": statement by statement',
      text,
      { statements, file },
    );
  }
  const control = statements.filter((s) => s.kind === "transaction-control");
  const noTx = statements.filter((s) => s.kind === "no-transaction");
  if (control.length === 0 && noTx.length === 0) {
    return mode("transaction", "in strata's transaction", text);
  }
  if (noTx.length === 0 && isWrapper(statements, control)) {
    const first = statements[0];
    const last = statements[statements.length - 1];
    const body = blank(blank(text, first.sqlStart, first.end), last.sqlStart, last.end);
    return {
      kind: "transaction",
      reason: "in strata's transaction (the file's own BEGIN/COMMIT wrapper is redundant: dropped)",
      body,
      unwrapped: true,
    };
  }
  if (header.transaction === undefined && noTx.length === statements.length) {
    return statementByStatement(
      "outside a transaction: every statement cannot run in a transaction block",
      text,
      { statements, file },
    );
  }
  throw refusal(file, header, control[0] ?? noTx[0]);
}

function mode(kind: RunMode["kind"], reason: string, body: string): RunMode {
  return { kind, reason, body, unwrapped: false };
}

function statementByStatement(
  reason: string,
  text: string,
  at: { statements: readonly Statement[]; file: string },
): RunMode {
  return { ...mode("none", reason, text), blockStarts: transactionBlocks(at.statements, at.file) };
}

/**
 * For each statement, the index of the statement that opened the transaction
 * block it runs in (null outside one), following the file's own BEGIN,
 * COMMIT, ROLLBACK and `AND CHAIN`. Throws `RUN_MODE_REFUSED` for a file that
 * ends inside a block: its work would be committed or lost by whatever strata
 * sends next.
 */
export function transactionBlocks(
  statements: readonly Statement[],
  file: string,
): (number | null)[] {
  const out: (number | null)[] = [];
  let open: number | null = null;
  let opener: Statement | null = null;
  for (let k = 0; k < statements.length; k++) {
    const s = statements[k];
    out.push(open);
    if (s.kind !== "transaction-control") continue;
    const effect = blockEffect(s.words);
    if (effect === "open" && open === null) [open, opener] = [k, s];
    else if (effect === "close") [open, opener] = [null, null];
    else if (effect === "chain") [open, opener] = [k + 1, s];
  }
  if (opener !== null) {
    throw new StrataError(
      "RUN_MODE_REFUSED",
      `Cannot run "${file}": the transaction opened on line ${opener.line} is never committed`,
      {
        file,
        line: opener.line,
        column: opener.column,
        hint: "End the file's transaction with COMMIT (or ROLLBACK); strata runs " +
          '"transaction: false" files statement by statement, exactly as written',
      },
    );
  }
  return out;
}

/** What a transaction-control statement does to the file's own block. */
function blockEffect(w: readonly string[]): "open" | "close" | "chain" | "none" {
  const [a, b] = w;
  if (a === "BEGIN" || (a === "START" && b === "TRANSACTION")) return "open";
  // ROLLBACK [WORK | TRANSACTION] TO [SAVEPOINT] name: the block stays open.
  const toSavepoint = b === "TO" || ((b === "WORK" || b === "TRANSACTION") && w[2] === "TO");
  if (b === "PREPARED" || (a === "ROLLBACK" && toSavepoint)) return "none";
  if (a === "PREPARE") return "close";
  if (a === "COMMIT" || a === "END" || a === "ABORT" || a === "ROLLBACK") {
    return w.includes("CHAIN") && !w.includes("NO") ? "chain" : "close";
  }
  return "none";
}

/** String literals (`''`, `E''`) and dollar-quoted bodies, for `codeOf`. */
const LITERALS =
  /\$([A-Za-z_][\w]*)?\$[\s\S]*?\$\1\$|[eE]'(?:[^'\\]|\\[\s\S]|'')*'|'(?:[^']|'')*'/g;

/**
 * `text` with every string literal and dollar-quoted body emptied: what
 * runs as code (a name written in a comment, a string or a function body is
 * not a call). Quoted identifiers stay.
 */
function codeOf(text: string): string {
  return text.replace(LITERALS, "''");
}

/** A call of `pg_advisory_unlock_all`, its name bare or quoted, qualified or not. */
const UNLOCK_ALL = /(^|[^\w$])"?pg_advisory_unlock_all"?\s*\(/i;

/** `DISCARD ALL` or a call of `pg_advisory_unlock_all`: the session's advisory locks go. */
function releasesLocks(s: Statement): boolean {
  return (s.words[0] === "DISCARD" && s.words[1] === "ALL") ||
    UNLOCK_ALL.test(codeOf(s.normalized));
}

/** `SET [SESSION | LOCAL] standard_conforming_strings ...` or `RESET ...`, the name maybe quoted. */
const SCS_SET =
  /^(SET|RESET)\s+(?:(?:SESSION|LOCAL)\s+)?"?standard_conforming_strings"?(?:\s*(?:=|\bTO\b))?\s*([^\s;]*)/i;

/** `set_config('standard_conforming_strings', value, ...)`, the name maybe `E''` or cast. */
const SCS_SET_CONFIG =
  /set_config"?\s*\(\s*E?'standard_conforming_strings'(?:\s*::\s*[\w."]+)?\s*,\s*E?('[^']*'|[^,)\s]*)/i;

/**
 * The value statement `s` gives standard_conforming_strings (upper-cased;
 * `DEFAULT` for a reset, `UNKNOWN` for a write to pg_settings), or undefined
 * when it does not touch it.
 */
function conformingStringsValue(s: Statement): string | undefined {
  const set = SCS_SET.exec(s.normalized);
  if (set) return set[1].toUpperCase() === "RESET" ? "DEFAULT" : set[2].toUpperCase();
  const code = codeOf(s.normalized);
  if (/set_config"?\s*\(/i.test(code)) {
    const call = SCS_SET_CONFIG.exec(s.normalized);
    if (call) return call[1].toUpperCase();
  }
  if (
    s.words[0] === "UPDATE" && /(^|[^\w$])"?pg_settings"?(?![\w$])/i.test(code) &&
    /'standard_conforming_strings'/i.test(s.normalized)
  ) {
    return /\bsetting\s*=\s*E?('[^']*')/i.exec(s.normalized)?.[1].toUpperCase() ?? "UNKNOWN";
  }
  return undefined;
}

/**
 * `DEALLOCATE ALL`, or a `DEALLOCATE` or `PREPARE` of one of strata's own
 * statement names (`RECORD_STATEMENTS`).
 */
function touchesRecord(s: Statement): boolean {
  const [verb] = s.words;
  if (verb !== "DEALLOCATE" && verb !== "PREPARE") return false;
  return (verb === "DEALLOCATE" && s.words.includes("ALL")) ||
    RECORD_NAME_BARE.test(s.normalized) || RECORD_NAME_QUOTED.test(s.normalized);
}

const ON_VALUES = new Set(["ON", "TRUE", "YES", "1", "'ON'", "'TRUE'", "'YES'", "'1'"]);

/** `SETTING_REFUSED` for statement `s` of `file`: what it does, and what to do. */
function refused(s: Statement, file: string, what: string, hint: string): StrataError {
  return new StrataError("SETTING_REFUSED", `Cannot run "${file}" line ${s.line}: ${what}`, {
    file,
    line: s.line,
    column: s.column,
    hint,
  });
}

/**
 * Refuse a file that turns standard_conforming_strings off (or back to a
 * default that may be off): strata's lexer, its quoting and the server would
 * then disagree about where strings end. Refuse one that drops the session's
 * advisory locks (strata's migration lock among them), or strata's prepared
 * record statements.
 */
function refuseSettings(statements: readonly Statement[], file: string): void {
  for (const s of statements) {
    const value = conformingStringsValue(s);
    if (releasesLocks(s)) {
      throw refused(
        s,
        file,
        "it releases strata's migration lock",
        "DISCARD ALL and pg_advisory_unlock_all() drop every advisory lock of the " +
          "session, so a second deploy could run beside this one; strata resets the session " +
          "after each file itself: remove this statement (DISCARD PLANS, SEQUENCES or TEMP are fine)",
      );
    }
    if (touchesRecord(s)) {
      throw refused(
        s,
        file,
        "it deallocates or redefines strata's prepared statements",
        "strata records each migration with statements it prepares once per session " +
          "(strata_record_up, strata_record_down); remove this statement, and deallocate " +
          "only your own statements, by name",
      );
    }
    if (value === undefined || ON_VALUES.has(value)) continue;
    throw refused(
      s,
      file,
      "it turns standard_conforming_strings off",
      "strata runs every migration with standard_conforming_strings = on, so backslashes " +
        "in '' strings are ordinary characters; write E'...' strings where you need escapes, " +
        "and remove this statement",
    );
  }
}

/**
 * True when `control` (the transaction-control statements among the
 * non-empty `statements`) is exactly a BEGIN first and a COMMIT last: a
 * wrapper around the file that strata's own transaction makes redundant.
 */
export function isWrapper(
  statements: readonly Statement[],
  control: readonly Statement[],
): boolean {
  if (control.length !== 2 || statements.length < 2) return false;
  const first = statements[0];
  const last = statements[statements.length - 1];
  return control[0] === first && control[1] === last &&
    BEGIN_FORMS.includes(first.words.join(" ")) && COMMIT_FORMS.includes(last.words.join(" "));
}

/** `text` with [from, to) replaced by spaces, keeping line breaks so positions still map. */
function blank(text: string, from: number, to: number): string {
  return text.slice(0, from) + text.slice(from, to).replace(/[^\n]/g, " ") + text.slice(to);
}

function refusal(file: string, header: Header, at: Statement): StrataError {
  const what = at.kind === "transaction-control"
    ? `transaction control "${at.words.slice(0, 2).join(" ")}"`
    : `"${at.words.slice(0, 3).join(" ")}", which cannot run in a transaction block,`;
  const where = `"${file}" line ${at.line}`;
  if (header.transaction === true) {
    return new StrataError(
      "RUN_MODE_REFUSED",
      `Cannot run ${where} in a transaction: ${what} conflicts with "transaction: true"`,
      {
        file,
        line: at.line,
        column: at.column,
        hint: 'Remove the statement, or set "-- transaction: false" to run the file ' +
          "statement by statement",
      },
    );
  }
  return new StrataError(
    "RUN_MODE_REFUSED",
    `Cannot decide how to run ${where}: ${what} is mixed with other SQL`,
    {
      file,
      line: at.line,
      column: at.column,
      hint: 'Add the header line "-- transaction: false" to run the file statement by ' +
        "statement exactly as written, or move that statement into a migration of its own",
    },
  );
}

function refusePsqlFeatures(statements: readonly Statement[], file: string): void {
  const psql = statements.find((s) => s.kind === "psql-meta" || s.kind === "psql-copy");
  if (!psql) return;
  const what = psql.kind === "psql-copy"
    ? '"COPY ... FROM stdin" with inline data'
    : "a psql meta-command (a backslash command such as \\set or \\i)";
  throw new StrataError(
    "PSQL_FEATURE",
    `Cannot run "${file}" line ${psql.line}: ${what} is a psql feature, not SQL`,
    {
      file,
      line: psql.line,
      column: psql.column,
      hint: psql.kind === "psql-copy"
        ? "Use INSERT ... VALUES, or COPY from a server-side file"
        : "Write the SQL out in full; strata sends files to the server, not to psql",
    },
  );
}
