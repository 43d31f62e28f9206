/**
 * Split PostgreSQL text into statements the way psql does, and classify them.
 *
 * Understands '' strings, E'' strings with backslash escapes, U&'' / B'' / X''
 * / N'' strings, "identifiers", $tag$ dollar quotes $tag$ (case-sensitive tags;
 * `$1` is a parameter), `--` and nested `/* *\/` comments, parentheses, and
 * `BEGIN ATOMIC ... END` bodies of CREATE FUNCTION / PROCEDURE (psql's own
 * heuristic: inside such a statement BEGIN and CASE open a block and END closes
 * one). Pure: no I/O.
 *
 * @module
 */

import { StrataError } from "./errors.ts";

/** What kind of statement a chunk is, for deciding how a file runs. */
export type StatementKind =
  | "sql"
  | "transaction-control"
  | "no-transaction"
  | "psql-meta"
  | "psql-copy";

/**
 * One chunk of the input. Chunks partition the input: concatenating
 * `text.slice(start, end)` of every chunk gives back the input exactly.
 */
export interface Statement {
  /** UTF-16 index where the chunk starts (just after the previous terminator). */
  readonly start: number;
  /** UTF-16 index just after the terminating `;`, or the end of the text. */
  readonly end: number;
  /** UTF-16 index of the first token (equal to `end` for an empty chunk). */
  readonly sqlStart: number;
  /** 1-based line of the first token. */
  readonly line: number;
  /** 1-based column of the first token, counted in code points. */
  readonly column: number;
  /** UTF-8 byte offset of the first token. */
  readonly byteOffset: number;
  /** True when the chunk holds only white space, comments and at most a `;`. */
  readonly isEmpty: boolean;
  readonly kind: StatementKind;
  /** Upper-cased bare words of the statement, the first 64 of them. */
  readonly words: readonly string[];
  /** Tokens with comments dropped and white space outside literals folded to one space. */
  readonly normalized: string;
}

const MAX_WORDS = 64;
const DOLLAR_TAG = /\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

// Character classes by code, not by regex: the lexer runs over every file on
// every start, before the JIT has warmed up.
function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

function isNumberPart(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 ||
    c === 46;
}

interface ChunkState {
  start: number;
  sqlStart: number;
  parenDepth: number;
  beginDepth: number;
  words: string[];
  wordCount: number;
  /** Normalised text so far, as verbatim runs of source joined by single spaces. */
  parts: string[];
  /** The run of adjacent tokens being built: source indices [segStart, segEnd). */
  segStart: number;
  segEnd: number;
  tokenCount: number;
  onlySemicolon: boolean;
  pendingSpace: boolean;
  hasMeta: boolean;
  hasFromStdin: boolean;
  lastWord: string;
}

function newChunk(start: number): ChunkState {
  return {
    start,
    sqlStart: -1,
    parenDepth: 0,
    beginDepth: 0,
    words: [],
    wordCount: 0,
    parts: [],
    segStart: -1,
    segEnd: -1,
    tokenCount: 0,
    onlySemicolon: true,
    pendingSpace: false,
    hasMeta: false,
    hasFromStdin: false,
    lastWord: "",
  };
}

/** Options for error messages: the file the text came from. */
export interface LexOptions {
  readonly file?: string;
}

/**
 * Split `text` into chunks (see `Statement`). Throws `SQL_UNTERMINATED` with
 * the line and column of an unterminated quote, comment or dollar body.
 */
export function splitStatements(text: string, options: LexOptions = {}): Statement[] {
  const raw: Array<{ state: ChunkState; end: number }> = [];
  let st = newChunk(0);
  let i = 0;
  const n = text.length;
  const fail = (at: number, what: string): never => {
    throw unterminated(text, at, what, options.file);
  };
  while (i < n) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      st.pendingSpace = true;
      i++;
    } else if (c === "-" && text[i + 1] === "-") {
      const nl = text.indexOf("\n", i);
      i = nl === -1 ? n : nl;
      st.pendingSpace = true;
    } else if (c === "/" && text[i + 1] === "*") {
      i = skipBlockComment(text, i) ?? fail(i, "comment");
      st.pendingSpace = true;
    } else if (c === "'") {
      const end = skipQuoted(text, i, "'", false) ?? fail(i, "string");
      pushToken(st, i, end, text);
      i = end;
    } else if (c === '"') {
      const end = skipQuoted(text, i, '"', false) ?? fail(i, "quoted identifier");
      pushToken(st, i, end, text);
      i = end;
    } else if (c === "$") {
      i = lexDollar(text, i, st) ?? fail(i, "dollar-quoted string");
    } else if (c === ";") {
      pushToken(st, i, i + 1, text);
      i++;
      if (st.parenDepth === 0 && st.beginDepth === 0) {
        raw.push({ state: st, end: i });
        st = newChunk(i);
      }
    } else if (c === "\\") {
      // A psql meta-command runs to the end of its line.
      const nl = text.indexOf("\n", i);
      const end = nl === -1 ? n : nl;
      st.hasMeta = true;
      pushToken(st, i, end, text);
      i = end;
    } else if (c >= "0" && c <= "9") {
      let j = i + 1;
      while (j < n && isNumberPart(text.charCodeAt(j))) j++;
      pushToken(st, i, j, text);
      i = j;
    } else if (isIdentStart(text.charCodeAt(i))) {
      i = lexWord(text, i, st) ?? fail(i, "string");
    } else {
      if (c === "(") st.parenDepth++;
      else if (c === ")" && st.parenDepth > 0) st.parenDepth--;
      pushToken(st, i, i + 1, text);
      i++;
    }
  }
  if (st.start < n || raw.length === 0) raw.push({ state: st, end: n });
  return finishChunks(text, raw);
}

function unterminated(text: string, at: number, what: string, file?: string): StrataError {
  const { line, column } = lineColumnAt(text, at);
  const where = file ? `"${file}" line ${line}` : `line ${line}`;
  return new StrataError("SQL_UNTERMINATED", `Cannot split ${where}: unterminated ${what}`, {
    file,
    line,
    column,
    hint: `The ${what} that starts at line ${line}, column ${column} is never closed`,
  });
}

function pushToken(st: ChunkState, at: number, end: number, text: string): void {
  if (st.sqlStart === -1) st.sqlStart = at;
  st.tokenCount++;
  if (st.onlySemicolon && !(end === at + 1 && text.charCodeAt(at) === 59)) st.onlySemicolon = false;
  if (st.segStart !== -1 && (st.pendingSpace || st.segEnd !== at)) {
    // White space or a comment separated this token from the run: close the run.
    st.parts.push(text.slice(st.segStart, st.segEnd));
    st.parts.push(" ");
    st.segStart = at;
  } else if (st.segStart === -1) {
    st.segStart = at;
  }
  st.segEnd = end;
  st.pendingSpace = false;
}

function skipBlockComment(text: string, i: number): number | undefined {
  let depth = 0;
  const n = text.length;
  while (i < n) {
    if (text[i] === "/" && text[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (text[i] === "*" && text[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return undefined;
}

/** Index just past the closing quote of a quoted token starting at `i`, or undefined. */
function skipQuoted(
  text: string,
  i: number,
  quote: string,
  backslash: boolean,
): number | undefined {
  const n = text.length;
  let j = i + 1;
  while (j < n) {
    const c = text[j];
    if (backslash && c === "\\") {
      j += 2;
    } else if (c === quote) {
      if (text[j + 1] === quote) j += 2;
      else return j + 1;
    } else {
      j++;
    }
  }
  return undefined;
}

function lexDollar(text: string, i: number, st: ChunkState): number | undefined {
  DOLLAR_TAG.lastIndex = i;
  const m = DOLLAR_TAG.exec(text);
  if (!m) {
    // `$1` parameter or a lone `$` operator character.
    let j = i + 1;
    while (j < text.length && text[j] >= "0" && text[j] <= "9") j++;
    pushToken(st, i, j, text);
    return j;
  }
  const tag = m[0];
  const close = text.indexOf(tag, i + tag.length);
  if (close === -1) return undefined;
  const end = close + tag.length;
  pushToken(st, i, end, text);
  return end;
}

function lexWord(text: string, i: number, st: ChunkState): number | undefined {
  let j = i + 1;
  while (j < text.length && isIdentPart(text.charCodeAt(j))) j++;
  const word = text.slice(i, j);
  const upper = word.toUpperCase();
  if (text[j] === "'" && (upper === "E" || upper === "B" || upper === "X" || upper === "N")) {
    const end = skipQuoted(text, j, "'", upper === "E");
    if (end === undefined) return undefined;
    pushToken(st, i, end, text);
    return end;
  }
  if (upper === "U" && text[j] === "&" && (text[j + 1] === "'" || text[j + 1] === '"')) {
    const end = skipQuoted(text, j + 1, text[j + 1], false);
    if (end === undefined) return undefined;
    pushToken(st, i, end, text);
    return end;
  }
  pushToken(st, i, j, text);
  noteWord(st, upper);
  return j;
}

function noteWord(st: ChunkState, upper: string): void {
  if (st.words.length < MAX_WORDS) st.words.push(upper);
  st.wordCount++;
  if (upper === "STDIN" && st.lastWord === "FROM") st.hasFromStdin = true;
  st.lastWord = upper;
  if (st.parenDepth !== 0 || !isCreateRoutine(st.words)) return;
  if (upper === "BEGIN") st.beginDepth++;
  else if (upper === "CASE" && st.beginDepth > 0) st.beginDepth++;
  else if (upper === "END" && st.beginDepth > 0) st.beginDepth--;
}

function isCreateRoutine(w: readonly string[]): boolean {
  if (w[0] !== "CREATE") return false;
  const routine = (x: string | undefined) => x === "FUNCTION" || x === "PROCEDURE";
  return routine(w[1]) || (w[1] === "OR" && w[2] === "REPLACE" && routine(w[3]));
}

function finishChunks(
  text: string,
  raw: Array<{ state: ChunkState; end: number }>,
): Statement[] {
  const out: Statement[] = [];
  const cursor = { index: 0, line: 1, column: 1, byte: 0 };
  for (const { state, end } of raw) {
    const isEmpty = state.tokenCount === 0 || (state.tokenCount === 1 && state.onlySemicolon);
    const sqlStart = isEmpty ? end : state.sqlStart;
    advanceCursor(text, cursor, isEmpty ? state.start : sqlStart);
    const words = state.words;
    out.push({
      start: state.start,
      end,
      sqlStart,
      line: cursor.line,
      column: cursor.column,
      byteOffset: cursor.byte,
      isEmpty,
      kind: isEmpty ? "sql" : classifyChunk(state),
      words,
      normalized: isEmpty ? "" : normalizedText(state, text),
    });
  }
  return out;
}

function normalizedText(st: ChunkState, text: string): string {
  return st.parts.join("") + text.slice(st.segStart, st.segEnd);
}

function classifyChunk(st: ChunkState): StatementKind {
  if (st.hasMeta) return "psql-meta";
  if (st.words[0] === "COPY" && st.hasFromStdin) return "psql-copy";
  return classifyWords(st.words);
}

/** Move `cursor` forward to `target`, counting lines, code-point columns and UTF-8 bytes. */
function advanceCursor(
  text: string,
  cursor: { index: number; line: number; column: number; byte: number },
  target: number,
): void {
  let { index, line, column, byte } = cursor;
  while (index < target) {
    const code = text.charCodeAt(index);
    if (code === 10) {
      line++;
      column = 1;
      byte++;
      index++;
      continue;
    }
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      byte += 4;
      index += 2;
    } else {
      byte += code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
      index++;
    }
    column++;
  }
  Object.assign(cursor, { index, line, column, byte });
}

/** 1-based line and code-point column of UTF-16 index `at` in `text`. */
export function lineColumnAt(text: string, at: number): { line: number; column: number } {
  const cursor = { index: 0, line: 1, column: 1, byte: 0 };
  advanceCursor(text, cursor, Math.min(at, text.length));
  return { line: cursor.line, column: cursor.column };
}

const TX_CONTROL = new Set(["BEGIN", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"]);

/**
 * Classify a statement by its upper-cased leading words: transaction control,
 * a statement that cannot run inside a transaction block, or ordinary SQL.
 */
export function classifyWords(w: readonly string[]): StatementKind {
  const [a, b, c, d] = w;
  if (TX_CONTROL.has(a) || (a === "START" && b === "TRANSACTION")) return "transaction-control";
  if (a === "PREPARE" && b === "TRANSACTION") return "transaction-control";
  if (isNoTransaction(w, a, b, c, d)) return "no-transaction";
  return "sql";
}

function isNoTransaction(
  w: readonly string[],
  a: string,
  b: string | undefined,
  c: string | undefined,
  d: string | undefined,
): boolean {
  if (a === "VACUUM" || (a === "DISCARD" && b === "ALL")) return true;
  if (a === "CREATE" || a === "DROP") {
    if (b === "DATABASE" || b === "TABLESPACE" || b === "SUBSCRIPTION") return true;
    if (b === "INDEX" && c === "CONCURRENTLY") return true;
    if (a === "CREATE" && b === "UNIQUE" && c === "INDEX" && d === "CONCURRENTLY") return true;
  }
  if (a === "ALTER" && b === "SYSTEM") return true;
  if (a === "REINDEX") {
    return w.slice(1, 8).some((x) => x === "CONCURRENTLY" || x === "DATABASE" || x === "SYSTEM");
  }
  if (a === "ALTER" && b === "TABLE") return w.includes("DETACH") && w.includes("CONCURRENTLY");
  if (a === "ALTER" && b === "DATABASE") return hasPair(w, "SET", "TABLESPACE");
  return false;
}

function hasPair(w: readonly string[], first: string, second: string): boolean {
  for (let i = 0; i + 1 < w.length; i++) if (w[i] === first && w[i + 1] === second) return true;
  return false;
}
