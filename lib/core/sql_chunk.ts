/**
 * What the SQL lexer (`sql_lexer.ts`) gathers about one chunk while it reads
 * tokens: the normalised text as runs of source, the upper-cased words and
 * the marks classification reads, parenthesis depth, psql meta-commands and
 * `COPY ... FROM STDIN`, and the `BEGIN ATOMIC ... END` body of CREATE
 * FUNCTION / PROCEDURE, inside which a `;` does not end the statement.
 * Mutable state, owned by one scan; no I/O. Pure.
 *
 * @module
 */

import { advanceCursor } from "./sql_chars.ts";
import { classifyWords, type StatementKind } from "./sql_classify.ts";

/** How many words (and marks) a chunk keeps: enough for every classification rule. */
const MAX_WORDS = 64;

/** One chunk being read; `newChunk` makes one, the `note*` and `pushToken` functions fill it. */
export interface ChunkState {
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

/** An empty chunk that starts at UTF-16 index `start`. */
export function newChunk(start: number): ChunkState {
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

/** Record a `(` (depth 1) or `)` (depth -1) for classification and the paren depth. */
export function notePunctuation(st: ChunkState, depth: number, mark: string): void {
  st.parenDepth += depth;
  noteMark(st, mark);
}

/** Record a quoted identifier (after its `pushToken`): classification sees it as `"`. */
export function noteQuotedIdentifier(st: ChunkState): void {
  noteMark(st, '"');
}

function noteMark(st: ChunkState, mark: string): void {
  if (st.sig.length < MAX_WORDS) st.sig.push(mark);
}

/**
 * Add the token at source indices [at, end) to the chunk: its first token
 * sets `sqlStart`, and it extends the current run of normalised text or,
 * after white space or a comment, starts a new one.
 */
export function pushToken(st: ChunkState, at: number, end: number, text: string): void {
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

/** Record a bare word (already pushed as a token), upper-cased as `upper`. */
export function noteWord(st: ChunkState, upper: string): void {
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

/** The chunk's `Statement.normalized` text. */
export function normalizedText(st: ChunkState, text: string): string {
  return st.parts.join("") + text.slice(st.segStart, st.segEnd);
}

/** The chunk's kind: a psql meta-command, `COPY ... FROM STDIN`, else by its words. */
export function classifyChunk(st: ChunkState): StatementKind {
  if (st.hasMeta) return "psql-meta";
  if (st.words[0] === "COPY" && st.hasFromStdin) return "psql-copy";
  return classifyWords(st.sig);
}

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

/** A chunk as the scan ends it: its state and the index just after its terminator. */
export type RawChunk = { state: ChunkState; end: number };

/** The statements of `text` from its raw chunks, with positions and kinds. */
export function finishChunks(text: string, raw: readonly RawChunk[]): Statement[] {
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
