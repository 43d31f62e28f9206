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
  if (header.transaction === false) {
    return mode("none", 'the header says "transaction: false": statement by statement', text);
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
    return mode(
      "none",
      "outside a transaction: every statement cannot run in a transaction block",
      text,
    );
  }
  throw refusal(file, header, control[0] ?? noTx[0]);
}

function mode(kind: RunMode["kind"], reason: string, body: string): RunMode {
  return { kind, reason, body, unwrapped: false };
}

function isWrapper(statements: readonly Statement[], control: readonly Statement[]): boolean {
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
