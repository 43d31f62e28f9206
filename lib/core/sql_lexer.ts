/**
 * Split PostgreSQL text into statements where the server's own lexer
 * (src/backend/parser/scan.l) would end them, and classify them.
 *
 * Understands '' strings, E'' strings with backslash escapes, U&'' / B'' / X''
 * / N'' strings and their continuation across a newline, "identifiers",
 * $tag$ dollar quotes $tag$ (case-sensitive tags; `$1` is a parameter), `--`
 * and nested `/* *\/` comments, parentheses (psql does not end a statement at
 * a `;` inside them), and `BEGIN ATOMIC ... END` bodies of CREATE FUNCTION /
 * PROCEDURE. Where psql reads a file differently from the server (psql
 * decides string continuation line by line, so never continues a string, and
 * counts every BEGIN, CASE and END inside CREATE FUNCTION), this follows the
 * server, which is what runs the text strata sends. Pure: no I/O. Text is
 * expected with LF line ends (the caller turns CRLF and CR into LF); a CR is
 * read as white space.
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
  /**
   * Tokens with comments dropped and white space outside literals folded to
   * one space. The parts of a string continued across a newline (`'a'` LF
   * `'b'`) count as tokens here: they are joined by one space.
   */
  readonly normalized: string;
}

/** Options for error messages: the file the text came from. */
export interface LexOptions {
  readonly file?: string;
}

const MAX_WORDS = 64;
// The server takes any non-ASCII character for a tag character; U+FEFF is left
// out so that an invisible byte order mark in a tag is reported, not obeyed.
const DOLLAR_TAG =
  /\$([A-Za-z_\u0080-\ufefe\uff00-\uffff][A-Za-z0-9_\u0080-\ufefe\uff00-\uffff]*)?\$/y;
const BOM = 0xfeff;

/** How a '-quoted string ends (scan.l's states xq / xus, xe, and xb / xh). */
type StringMode = 0 | 1 | 2;
/** '' N'' U&'': `''` is a quote inside the string, a backslash is a character. */
const PLAIN: StringMode = 0;
/** E'': `''` is a quote, a backslash escapes the character after it. */
const ESCAPE: StringMode = 1;
/** B'' X'': the next quote ends the part; there is no `''`. */
const BITS: StringMode = 2;

// Character classes by code, not by regex: the lexer runs over every file on
// every start, before the JIT has warmed up. Like the server, any non-ASCII
// character can be part of an identifier.
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

/** scan.l's {space}: space, tab, LF, CR, form feed, vertical tab. */
function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11;
}

/** The text being split and what the caller wants back besides the chunks. */
interface Scan {
  readonly text: string;
  readonly file: string | undefined;
  /** Collects the start of every real `--` comment, for `findLineComments`. */
  readonly comments: number[] | undefined;
}

interface ChunkState {
  start: number;
  sqlStart: number;
  parenDepth: number;
  words: string[];
  /** Words plus `(`, `)` and `"` (a quoted identifier), the first 64: what classification reads. */
  sig: string[];
  /** Inside the `BEGIN ATOMIC ... END` body of a CREATE FUNCTION / PROCEDURE. */
  inBody: boolean;
  /** `tokenCount` at the last bare BEGIN at paren depth 0, to spot `BEGIN ATOMIC`. */
  beginToken: number;
  /** `tokenCount` at the ATOMIC or the last `;` of the body: an END right after it closes the body. */
  bodyToken: number;
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
    words: [],
    sig: [],
    inBody: false,
    beginToken: -2,
    bodyToken: -2,
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

/**
 * Split `text` into chunks (see `Statement`). Throws `SQL_UNTERMINATED` with
 * the line and column of an unterminated quote, comment or dollar body, and
 * `INVALID_TEXT` for a U+FEFF (byte order mark) outside literals and comments.
 */
export function splitStatements(text: string, options: LexOptions = {}): Statement[] {
  return finishChunks(text, scanChunks({ text, file: options.file, comments: undefined }));
}

/**
 * UTF-16 indexes, in order, where the `--` comments of `text` start: only
 * real comments, not `--` inside strings, quoted identifiers, dollar bodies,
 * block comments or psql meta-commands. Returns `[]` when there are none.
 * Reads the whole text as `splitStatements` does and throws what it throws.
 */
export function findLineComments(text: string, options: LexOptions = {}): number[] {
  const comments: number[] = [];
  scanChunks({ text, file: options.file, comments });
  return comments;
}

type RawChunk = { state: ChunkState; end: number };

function scanChunks(sc: Scan): RawChunk[] {
  const text = sc.text;
  const raw: RawChunk[] = [];
  let st = newChunk(0);
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      st.pendingSpace = true;
      i++;
    } else if (c === 45 && text.charCodeAt(i + 1) === 45) {
      sc.comments?.push(i);
      i = lineEnd(text, i);
      st.pendingSpace = true;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const end = skipBlockComment(text, i);
      if (end === -1) throw unterminated(sc, i, "comment");
      i = end;
      st.pendingSpace = true;
    } else if (c === 39) {
      i = lexString(sc, st, i, PLAIN);
    } else if (c === 34) {
      i = lexQuotedIdentifier(sc, st, i, i);
    } else if (c === 36) {
      i = lexDollar(sc, st, i);
    } else if (c === 59) {
      pushToken(st, i, i + 1, text);
      i++;
      if (st.parenDepth === 0) {
        if (st.inBody) {
          st.bodyToken = st.tokenCount;
        } else {
          raw.push({ state: st, end: i });
          st = newChunk(i);
        }
      }
    } else if (c === 92) {
      // A psql meta-command runs to the end of its line.
      const end = lineEnd(text, i);
      st.hasMeta = true;
      pushToken(st, i, end, text);
      i = end;
    } else if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && isNumberPart(text.charCodeAt(j))) j++;
      pushToken(st, i, j, text);
      i = j;
    } else if (isIdentStart(c)) {
      i = lexWord(sc, st, i);
    } else {
      if (c === 40) notePunctuation(st, 1, "(");
      else if (c === 41 && st.parenDepth > 0) notePunctuation(st, -1, ")");
      pushToken(st, i, i + 1, text);
      i++;
    }
  }
  if (st.start < n || raw.length === 0) raw.push({ state: st, end: n });
  return raw;
}

function notePunctuation(st: ChunkState, depth: number, mark: string): void {
  st.parenDepth += depth;
  if (st.sig.length < MAX_WORDS) st.sig.push(mark);
}

/** Index of the LF that ends the line holding `i`, or the end of the text. */
function lineEnd(text: string, i: number): number {
  const nl = text.indexOf("\n", i);
  return nl === -1 ? text.length : nl;
}

function unterminated(sc: Scan, at: number, what: string): StrataError {
  const { line, column } = lineColumnAt(sc.text, at);
  const where = sc.file ? `"${sc.file}" line ${line}` : `line ${line}`;
  return new StrataError("SQL_UNTERMINATED", `Cannot split ${where}: unterminated ${what}`, {
    file: sc.file,
    line,
    column,
    hint: `The ${what} that starts at line ${line}, column ${column} is never closed`,
  });
}

function strayByteOrderMark(sc: Scan, at: number): StrataError {
  const { line, column } = lineColumnAt(sc.text, at);
  const where = `${sc.file ? `"${sc.file}" ` : ""}line ${line}, column ${column}`;
  return new StrataError(
    "INVALID_TEXT",
    `Cannot read ${where}: invisible U+FEFF (byte order mark) in the middle of the file`,
    {
      file: sc.file,
      line,
      column,
      hint: "Delete the invisible character (it is often left where two files that each " +
        "began with a byte order mark were joined); the server would read it as part of a word",
    },
  );
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

/** Index just past the `*\/` that closes the block comment at `i`, or -1. */
function skipBlockComment(text: string, i: number): number {
  let depth = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 47 && text.charCodeAt(i + 1) === 42) {
      depth++;
      i += 2;
    } else if (c === 42 && text.charCodeAt(i + 1) === 47) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return -1;
}

/**
 * Lex the string literal whose prefix starts at `start` (its quote is at
 * `start` for '' and one or two characters later for E'', U&'' ...), with
 * every continuation: scan.l's {quotecontinue} makes `'a'` LF `'b'` one
 * literal, read to its end in the mode of the first part. Each part is a
 * token of its own for `normalized`. Returns the index after the last part.
 */
function lexString(sc: Scan, st: ChunkState, start: number, mode: StringMode): number {
  const text = sc.text;
  let part = start;
  let quote = text.indexOf("'", start);
  for (;;) {
    const close = mode === ESCAPE
      ? closingEscapeQuote(text, quote + 1)
      : closingQuote(text, quote + 1, mode);
    if (close === -1) throw unterminated(sc, start, "string");
    pushToken(st, part, close + 1, text);
    const next = continuationQuote(text, close + 1);
    if (next === -1) return close + 1;
    if (sc.comments) noteGapComments(sc.comments, text, close + 1, next);
    st.pendingSpace = true;
    part = quote = next;
  }
}

/** Index of the quote that ends a PLAIN or BITS string body starting at `from`, or -1. */
function closingQuote(text: string, from: number, mode: StringMode): number {
  let j = from;
  for (;;) {
    const k = text.indexOf("'", j);
    if (k === -1 || mode === BITS || text.charCodeAt(k + 1) !== 39) return k;
    j = k + 2;
  }
}

/** Index of the quote that ends an E'' string body starting at `from`, or -1. */
function closingEscapeQuote(text: string, from: number): number {
  const n = text.length;
  let j = from;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 92) {
      j += 2;
    } else if (c !== 39) {
      j++;
    } else if (text.charCodeAt(j + 1) === 39) {
      j += 2;
    } else {
      return j;
    }
  }
  return -1;
}

/**
 * The index of the quote that continues a string literal whose part ends at
 * `from`, or -1. scan.l: `quotecontinue = {whitespace_with_newline}{quote}`,
 * where the gap is horizontal white space and at most a `--` comment, a
 * newline, then white space and `--` comments each ended by a newline. A
 * `/* *\/` comment is not allowed there: it ends the literal.
 */
function continuationQuote(text: string, from: number): number {
  let j = from;
  let c = text.charCodeAt(j);
  while (c === 32 || c === 9 || c === 12 || c === 11) c = text.charCodeAt(++j);
  if (c === 45 && text.charCodeAt(j + 1) === 45) {
    j = lineEnd(text, j);
    c = text.charCodeAt(j);
  }
  if (c !== 10 && c !== 13) return -1;
  const n = text.length;
  for (j++; j < n; j++) {
    c = text.charCodeAt(j);
    if (c === 39) return j;
    if (c === 45 && text.charCodeAt(j + 1) === 45) {
      j = lineEnd(text, j);
      if (j === n) return -1;
    } else if (!isSpace(c)) {
      return -1;
    }
  }
  return -1;
}

/** Record the `--` comments in the gap [from, to) between the parts of a string. */
function noteGapComments(comments: number[], text: string, from: number, to: number): void {
  for (let j = text.indexOf("--", from); j !== -1 && j < to; j = text.indexOf("--", j)) {
    comments.push(j);
    j = lineEnd(text, j);
  }
}

/** Lex a "quoted identifier" whose prefix starts at `start` and quote is at `quote`. */
function lexQuotedIdentifier(sc: Scan, st: ChunkState, start: number, quote: number): number {
  const text = sc.text;
  let j = quote + 1;
  for (;;) {
    const k = text.indexOf('"', j);
    if (k === -1) throw unterminated(sc, start, "quoted identifier");
    if (text.charCodeAt(k + 1) === 34) {
      j = k + 2;
      continue;
    }
    pushToken(st, start, k + 1, text);
    if (st.sig.length < MAX_WORDS) st.sig.push('"');
    return k + 1;
  }
}

function lexDollar(sc: Scan, st: ChunkState, i: number): number {
  const text = sc.text;
  DOLLAR_TAG.lastIndex = i;
  const m = DOLLAR_TAG.exec(text);
  if (!m) {
    // `$1` parameter or a lone `$` operator character.
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    pushToken(st, i, j, text);
    return j;
  }
  const tag = m[0];
  const close = text.indexOf(tag, i + tag.length);
  if (close === -1) throw unterminated(sc, i, "dollar-quoted string");
  const end = close + tag.length;
  pushToken(st, i, end, text);
  return end;
}

function lexWord(sc: Scan, st: ChunkState, i: number): number {
  const text = sc.text;
  const n = text.length;
  if (text.charCodeAt(i) === BOM) throw strayByteOrderMark(sc, i);
  let j = i + 1;
  for (; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === BOM) throw strayByteOrderMark(sc, j);
    if (!isIdentPart(c)) break;
  }
  const next = text.charCodeAt(j);
  if (j === i + 1 && (next === 39 || next === 38)) {
    const prefixed = lexPrefixed(sc, st, i);
    if (prefixed !== -1) return prefixed;
  }
  pushToken(st, i, j, text);
  noteWord(st, text.slice(i, j).toUpperCase());
  return j;
}

/** Lex E'' B'' X'' N'' U&'' U&"" starting at the letter `i`; -1 when it is no such token. */
function lexPrefixed(sc: Scan, st: ChunkState, i: number): number {
  const text = sc.text;
  const letter = text.charCodeAt(i) | 0x20;
  if (text.charCodeAt(i + 1) === 39) {
    if (letter === 101) return lexString(sc, st, i, ESCAPE);
    if (letter === 98 || letter === 120) return lexString(sc, st, i, BITS);
    if (letter === 110) return lexString(sc, st, i, PLAIN);
    return -1;
  }
  if (letter !== 117) return -1;
  const quote = text.charCodeAt(i + 2);
  if (quote === 39) return lexString(sc, st, i, PLAIN);
  if (quote === 34) return lexQuotedIdentifier(sc, st, i, i + 2);
  return -1;
}

function noteWord(st: ChunkState, upper: string): void {
  if (st.words.length < MAX_WORDS) st.words.push(upper);
  if (st.sig.length < MAX_WORDS) st.sig.push(upper);
  if (upper === "STDIN" && st.lastWord === "FROM") st.hasFromStdin = true;
  st.lastWord = upper;
  if (st.parenDepth === 0 && st.words[0] === "CREATE") noteRoutineWord(st, upper);
}

/**
 * Track the `BEGIN ATOMIC ... END` body of CREATE [OR REPLACE] FUNCTION /
 * PROCEDURE, whose `;` do not end the statement. BEGIN and ATOMIC are
 * unreserved (`ORDER BY begin` is legal), so only the two words together open
 * the body. The body ends at an END right after its ATOMIC or one of its `;`:
 * the grammar puts it there (`BEGIN_P ATOMIC routine_body_stmt_list END_P`,
 * each statement ended by `;`), and no statement of the body starts with END,
 * while the END of a CASE, `AS end` or `t.end` never follows a `;`. (psql
 * counts every BEGIN, CASE and END instead, and so misreads all of these.)
 */
function noteRoutineWord(st: ChunkState, upper: string): void {
  if (st.inBody) {
    if (upper === "END" && st.tokenCount - 1 === st.bodyToken) st.inBody = false;
  } else if (upper === "BEGIN") {
    st.beginToken = st.tokenCount;
  } else if (
    upper === "ATOMIC" && st.tokenCount - 1 === st.beginToken && isCreateRoutine(st.words)
  ) {
    st.inBody = true;
    st.bodyToken = st.tokenCount;
  }
}

function isCreateRoutine(w: readonly string[]): boolean {
  if (w[0] !== "CREATE") return false;
  const routine = (x: string | undefined) => x === "FUNCTION" || x === "PROCEDURE";
  return routine(w[1]) || (w[1] === "OR" && w[2] === "REPLACE" && routine(w[3]));
}

function finishChunks(text: string, raw: readonly RawChunk[]): Statement[] {
  const out: Statement[] = [];
  const cursor = { index: 0, line: 1, column: 1, byte: 0 };
  for (const { state, end } of raw) {
    const isEmpty = state.tokenCount === 0 || (state.tokenCount === 1 && state.onlySemicolon);
    const sqlStart = isEmpty ? end : state.sqlStart;
    advanceCursor(text, cursor, isEmpty ? state.start : sqlStart);
    out.push({
      start: state.start,
      end,
      sqlStart,
      line: cursor.line,
      column: cursor.column,
      byteOffset: cursor.byte,
      isEmpty,
      kind: isEmpty ? "sql" : classifyChunk(state),
      words: state.words,
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
  return classifyWords(st.sig);
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
 * `w` may also hold `(` and `)` (to tell REINDEX and CLUSTER options from
 * names) and `"` for a quoted identifier, as the lexer records them.
 */
export function classifyWords(w: readonly string[]): StatementKind {
  const [a, b] = w;
  if (TX_CONTROL.has(a) || ((a === "START" || a === "PREPARE") && b === "TRANSACTION")) {
    return "transaction-control";
  }
  return isNoTransaction(w) ? "no-transaction" : "sql";
}

/**
 * The statements PostgreSQL refuses inside a transaction block
 * (PreventInTransactionBlock), as far as their words tell. CREATE and DROP
 * SUBSCRIPTION count always: whether they touch a replication slot depends on
 * options and state the words do not show, and running outside is safe.
 */
function isNoTransaction(w: readonly string[]): boolean {
  const [a, b, c, d] = w;
  switch (a) {
    case "VACUUM":
      return true;
    case "DISCARD":
      return b === "ALL";
    case "CLUSTER":
      return isClusterAll(w);
    case "REINDEX":
      return isReindexOutside(w);
    case "CREATE":
      return isDatabaseLevel(b) || (b === "INDEX" && c === "CONCURRENTLY") ||
        (b === "UNIQUE" && c === "INDEX" && d === "CONCURRENTLY");
    case "DROP":
      return isDatabaseLevel(b) || (b === "INDEX" && c === "CONCURRENTLY");
    case "ALTER":
      return isAlterOutside(w);
  }
  return false;
}

function isDatabaseLevel(b: string | undefined): boolean {
  return b === "DATABASE" || b === "TABLESPACE" || b === "SUBSCRIPTION";
}

function isAlterOutside(w: readonly string[]): boolean {
  switch (w[1]) {
    case "SYSTEM":
      return true;
    case "TABLE":
      return w.includes("DETACH") && w.includes("CONCURRENTLY");
    case "DATABASE":
      return hasPair(w, "SET", "TABLESPACE");
    case "SUBSCRIPTION":
      return isSubscriptionRefresh(w);
  }
  return false;
}

/**
 * ALTER SUBSCRIPTION s REFRESH PUBLICATION, and SET / ADD / DROP PUBLICATION
 * unless `WITH (refresh = false)`: they refresh the subscription's tables.
 */
function isSubscriptionRefresh(w: readonly string[]): boolean {
  const [verb, what] = [w[3], w[4]];
  if (what !== "PUBLICATION") return false;
  if (verb === "REFRESH") return true;
  return (verb === "SET" || verb === "ADD" || verb === "DROP") &&
    !hasPair(w, "REFRESH", "FALSE") && !hasPair(w, "REFRESH", "OFF");
}

/** Index just after the `( ... )` option list that starts at `k`, or `k` when there is none. */
function skipOptions(w: readonly string[], k: number): number {
  if (w[k] !== "(") return k;
  while (k < w.length && w[k] !== ")") k++;
  return k + 1;
}

/** REINDEX ... CONCURRENTLY (as keyword or option), and REINDEX SCHEMA / DATABASE / SYSTEM. */
function isReindexOutside(w: readonly string[]): boolean {
  const k = skipOptions(w, 1);
  for (let o = 2; o < k; o++) {
    if (w[o] === "CONCURRENTLY" && w[o + 1] !== "FALSE" && w[o + 1] !== "OFF") return true;
  }
  const target = w[k];
  return target === "SCHEMA" || target === "DATABASE" || target === "SYSTEM" ||
    w[k + 1] === "CONCURRENTLY";
}

/** CLUSTER without a table (`CLUSTER`, `CLUSTER VERBOSE`, `CLUSTER (VERBOSE)`) clusters every table. */
function isClusterAll(w: readonly string[]): boolean {
  let k = skipOptions(w, 1);
  if (w[k] === "VERBOSE") k++;
  return k >= w.length;
}

function hasPair(w: readonly string[], first: string, second: string): boolean {
  for (let i = 0; i + 1 < w.length; i++) if (w[i] === first && w[i + 1] === second) return true;
  return false;
}
