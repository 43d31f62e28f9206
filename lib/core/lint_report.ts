/**
 * Render a lint report: human text grouped by file (each finding at
 * `path:line:col` with a caret, the lock and the safe alternative, and what
 * the trace saw), one JSON document, or GitHub workflow annotations. Also the
 * verdict: a report fails when an unsuppressed error fired (or, with
 * `strict`, a warning). Pure.
 *
 * @module
 */

import { join } from "node:path";
import type { FileLint, Finding } from "./lint_check.ts";
import { describeTrace, type FileTrace, notableLocks, observeFile } from "./lint_observe.ts";
import { StrataError } from "./errors.ts";
import { caretSnippet } from "./location.ts";
import { paint } from "./output.ts";

/** The lint of one file, ready to print. */
export interface FileReport {
  readonly fileName: string;
  /** The path to print (the directory joined with the file name). */
  readonly path: string;
  /** How the file runs, in words (strata's decision). */
  readonly runs: string;
  readonly findings: readonly Finding[];
  readonly trace: FileTrace | null;
}

/** Where the server version for version-dependent advice came from. */
export type VersionSource = "server" | "option" | "assumed";

/** A whole lint run. */
export interface LintReport {
  /** `pending` (against a database), `all` (every file), or `explicit` (named files). */
  readonly scope: "pending" | "all" | "explicit";
  readonly pgVersion: number;
  readonly versionSource: VersionSource;
  readonly files: readonly FileReport[];
  /** Null without `--trace`. */
  readonly trace: {
    readonly scratch: string;
    readonly server: string;
    /** Why the trace stopped early, if it did. */
    readonly error: string | null;
  } | null;
}

/**
 * The report of `lints` (in order), each file's findings joined with its
 * trace when there is one; paths are `dir` joined with the file names.
 */
export function assembleReport(
  lints: readonly FileLint[],
  meta: {
    readonly dir: string;
    readonly scope: LintReport["scope"];
    readonly pgVersion: number;
    readonly versionSource: VersionSource;
    readonly trace: {
      readonly traces: ReadonlyMap<string, FileTrace>;
      readonly scratch: string;
      readonly server: string;
      readonly error: string | null;
    } | null;
  },
): LintReport {
  const files = lints.map((lint): FileReport => {
    const trace = meta.trace?.traces.get(lint.file.fileName) ?? null;
    return {
      fileName: lint.file.fileName,
      path: join(meta.dir, lint.file.fileName),
      runs: lint.file.runMode.reason,
      findings: observeFile(lint, trace ?? undefined),
      trace,
    };
  });
  const { scope, pgVersion, versionSource } = meta;
  const trace = meta.trace
    ? { scratch: meta.trace.scratch, server: meta.trace.server, error: meta.trace.error }
    : null;
  return { scope, pgVersion, versionSource, files, trace };
}

/** Counts of a report. */
export interface LintSummary {
  readonly files: number;
  readonly errors: number;
  readonly warnings: number;
  readonly suppressed: number;
  readonly observed: number;
}

/** Count the report's findings (suppressed ones only under `suppressed`). */
export function summarize(report: LintReport): LintSummary {
  const all = report.files.flatMap((f) => f.findings);
  const live = all.filter((f) => f.suppressed === null);
  return {
    files: report.files.length,
    errors: live.filter((f) => f.severity === "error").length,
    warnings: live.filter((f) => f.severity === "warning").length,
    suppressed: all.length - live.length,
    observed: live.filter((f) => f.observed === true).length,
  };
}

/** True when an unsuppressed error fired, or with `strict` any unsuppressed finding. */
export function hasFailed(report: LintReport, options: { strict: boolean }): boolean {
  const s = summarize(report);
  return s.errors > 0 || (options.strict && s.warnings > 0);
}

const VERSION_WORDS: Readonly<Record<VersionSource, string>> = {
  server: "from the server",
  option: "from --pg-version",
  assumed: "assumed; configure a database or pass --pg-version",
};

/** The closing line of the text output. */
export function summaryLine(report: LintReport): string {
  const s = summarize(report);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const traced = report.trace
    ? `; traced on ${report.trace.scratch}, ${report.trace.server}` +
      (report.trace.error ? `, stopped: ${report.trace.error}` : "")
    : "";
  return `lint: ${plural(s.files, "file")} (${report.scope}), ${plural(s.errors, "error")}, ` +
    `${plural(s.warnings, "warning")}, ${s.suppressed} suppressed; PostgreSQL ` +
    `${report.pgVersion} (${VERSION_WORDS[report.versionSource]})${traced}`;
}

/** Human text: files with findings or trace notes, then the summary line. */
export function renderText(report: LintReport, options: { color: boolean }): string {
  const lines: string[] = [];
  for (const file of report.files) {
    const traceLines = file.trace ? renderTraceLines(file) : [];
    if (file.findings.length === 0 && traceLines.length === 0) continue;
    lines.push(paint(`${file.path}`, "bold", options.color) + ` (runs ${file.runs})`);
    for (const f of file.findings) lines.push(...renderFinding(file.path, f, options));
    lines.push(...traceLines, "");
  }
  lines.push(summaryLine(report));
  return lines.join("\n") + "\n";
}

/** The lines of one finding. */
function renderFinding(path: string, f: Finding, options: { color: boolean }): string[] {
  const where = `${path}:${f.line}:${f.column}`;
  const label = `${f.severity}[${f.rule}]`;
  if (f.suppressed !== null) {
    return [`  ${where}: ${paint(`${label} suppressed`, "dim", options.color)}: ${f.suppressed}`];
  }
  const painted = paint(label, f.severity === "error" ? "red" : "bold", options.color);
  const out = [`  ${where}: ${painted}: ${f.message}`];
  out.push(
    ...caretSnippet({ line: f.line, column: f.column, lineText: f.lineText }).map((l) =>
      `    ${l}`
    ),
  );
  out.push(`    lock: ${f.lock}`, `    safe: ${f.safe}`);
  if (f.observed !== null) {
    out.push(`    trace: ${f.observed ? "observed" : "not observed"}: ${f.evidence}`);
  }
  return out;
}

function renderTraceLines(file: FileReport): string[] {
  const t = file.trace!;
  const how = t.mode === "transaction"
    ? "in a transaction, rolled back"
    : "statement by statement, outside a transaction";
  const notable = t.statements.filter((s) =>
    s.error || notableLocks(s).length > 0 || s.rewritten.some((r) => r.isTable) ||
    (s.scanned?.length ?? 0) > 0
  );
  if (notable.length === 0) {
    const nothing = t.mode === "transaction"
      ? "no lock, rewrite or scan on an existing table"
      : "no rewrite of an existing table (locks and scans are not observable outside a transaction)";
    return [`  trace (${how}): ${nothing}`];
  }
  return [
    `  trace (${how}):`,
    ...notable.map((s) => `    line ${s.line}: ${describeTrace(s)}`),
  ];
}

/**
 * GitHub workflow commands: `::error file=...,line=...,col=...,title=...::`
 * per unsuppressed finding (`::warning` for warnings), then the summary line.
 */
export function renderGithub(report: LintReport): string {
  const lines: string[] = [];
  for (const file of report.files) {
    for (const f of file.findings) {
      if (f.suppressed !== null) continue;
      const props = [
        `file=${escapeProperty(file.path)}`,
        `line=${f.line}`,
        `col=${f.column}`,
        `title=${escapeProperty(`strata lint: ${f.rule}`)}`,
      ].join(",");
      const text = `${f.message}\nlock: ${f.lock}\nsafe: ${f.safe}` +
        (f.observed === null ? "" : `\ntrace: ${f.observed ? "observed" : "not observed"}`);
      lines.push(`::${f.severity} ${props}::${escapeData(text)}`);
    }
  }
  lines.push(summaryLine(report));
  return lines.join("\n") + "\n";
}

function escapeData(text: string): string {
  return text.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll("\n", "%0A");
}

function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** The `--json` document. */
export function reportJson(report: LintReport, options: { strict: boolean }) {
  return {
    scope: report.scope,
    pgVersion: { major: report.pgVersion, source: report.versionSource },
    trace: report.trace,
    files: report.files.map((file) => ({
      file: file.fileName,
      path: file.path,
      runs: file.runs,
      findings: file.findings.map((f) => ({
        rule: f.rule,
        severity: f.severity,
        line: f.line,
        column: f.column,
        message: f.message,
        relations: f.relations,
        lock: f.lock,
        safe: f.safe,
        suppressed: f.suppressed,
        observed: f.observed,
        evidence: f.evidence || null,
      })),
      trace: file.trace,
    })),
    summary: { ...summarize(report), failed: hasFailed(report, options) },
  };
}

/** The `LINT_FAILED` error (exit 6) for a report that failed, saying what failed it. */
export function lintFailedError(report: LintReport, options: { strict: boolean }): StrataError {
  const s = summarize(report);
  const what = s.errors > 0
    ? `${s.errors} error${s.errors === 1 ? "" : "s"}`
    : `${s.warnings} warning${s.warnings === 1 ? "" : "s"} (--strict)`;
  return new StrataError(
    "LINT_FAILED",
    `Cannot pass lint: ${what} in ${report.files.length} files`,
    {
      hint: options.strict && s.errors === 0
        ? "Fix the warnings, suppress them with a lint-ignore header, or drop --strict"
        : "Use the safe alternative shown, or suppress a finding on purpose with a header line " +
          '"-- lint-ignore: RULE -- the reason"',
    },
  );
}
