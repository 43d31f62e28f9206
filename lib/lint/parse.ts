/**
 * PostgreSQL's own parser (libpg-query, PostgreSQL 17's grammar compiled to
 * WebAssembly), loaded on first use only, so that commands which do not lint
 * never pay for it. Maps the parser's statements onto strata's: the parser's
 * locations are UTF-8 byte offsets into the text it was given, which here is
 * always the whole file (or one of strata's statements, at its byte offset).
 *
 * @module
 */

import type { ParsedFile, ParsedStatement } from "../core/lint_check.ts";
import type { RawFinding } from "../core/lint_context.ts";
import { field, list, type Tree } from "../core/lint_tree.ts";
import { locateByte } from "../core/location.ts";
import type { MigrationFile } from "../core/types.ts";

/** Parse SQL text into a tree (`{stmts: [...]}`); throws the parser's error. */
export type ParseSql = (sql: string) => Tree;

let loading: Promise<ParseSql> | null = null;

/** Load the parser once (about 150 ms); later calls return the same function. */
export function loadParser(): Promise<ParseSql> {
  loading ??= (async () => {
    const parser = await import("libpg-query");
    await parser.loadModule();
    return (sql: string) => parser.parseSync(sql) as Tree;
  })();
  return loading;
}

/**
 * Parse `file` and align the parser's statements with `file.statements`.
 * When the whole file does not parse, or the two splits disagree (reported
 * as `disagreement`), each of strata's statements is parsed alone, so the
 * rules still see every statement that parses.
 */
export function parseFile(parse: ParseSql, file: MigrationFile): ParsedFile {
  const text = parserText(file);
  let whole: Tree;
  try {
    whole = parse(text);
  } catch {
    return { statements: parseEach(parse, file, text), disagreement: null };
  }
  const stmts = list(field(whole, "stmts"));
  const disagreement = compareSplits(file, stmts);
  if (disagreement) return { statements: parseEach(parse, file, text), disagreement };
  return {
    statements: stmts.map((s) => ({ tree: field(s, "stmt") ?? null, base: 0 })),
    disagreement,
  };
}

/**
 * The text the parser gets: the file, with each `${NAME}` placeholder (the
 * `env` header) replaced by an identifier of the same length, so every byte
 * offset still points at the same place.
 */
function parserText(file: MigrationFile): string {
  if (!file.header.env) return file.text;
  return file.text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => `_${name}__`);
}

function parseEach(parse: ParseSql, file: MigrationFile, text: string): ParsedStatement[] {
  return file.statements.map((s) => {
    const sql = text.slice(s.sqlStart, s.end);
    try {
      const stmts = list(field(parse(sql), "stmts"));
      return { tree: field(stmts[0], "stmt") ?? null, base: s.byteOffset };
    } catch (err) {
      const details = field(err, "sqlDetails");
      const position = field(details, "cursorPosition");
      const at = typeof position === "number"
        ? utf8Length([...sql].slice(0, position).join(""))
        : 0;
      return {
        tree: null,
        base: s.byteOffset,
        error: { message: (err as Error).message, at: s.byteOffset + at },
      };
    }
  });
}

const encoder = new TextEncoder();

function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/**
 * Where strata's split and the parser's first differ, as a finding, or null
 * when they agree. Both put statement k+1's start just after statement k's
 * `;`, so equal starts (and counts) mean equal boundaries.
 */
function compareSplits(file: MigrationFile, stmts: readonly Tree[]): RawFinding | null {
  const ours = file.statements.map((s) =>
    s.byteOffset - utf8Length(file.text.slice(s.start, s.sqlStart))
  );
  const theirs = stmts.map((s) => {
    const at = field(s, "stmt_location");
    return typeof at === "number" ? at : 0;
  });
  const n = Math.min(ours.length, theirs.length);
  let k = 0;
  while (k < n && ours[k] === theirs[k]) k++;
  if (k === n && ours.length === theirs.length) return null;
  const where = (byte: number | undefined) => {
    if (byte === undefined) return "nowhere (it sees no statement there)";
    const at = locateByte(file.text, byte);
    return `line ${at.line}, column ${at.column}`;
  };
  const at = file.statements[k]?.byteOffset ?? theirs[k] ?? 0;
  return {
    rule: "splitter-disagrees",
    at,
    message: `strata's splitter and PostgreSQL's parser disagree about statement ${k + 1}: ` +
      `strata starts it at ${where(ours[k])}, the parser at ${where(theirs[k])} ` +
      `(strata sees ${ours.length} statements, the parser ${theirs.length})`,
    relations: [],
  };
}
