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
 * read as white space. This module holds the scan and the token lexers;
 * `sql_chars.ts` reads characters, `sql_chunk.ts` gathers each chunk and
 * turns it into a `Statement`, `sql_classify.ts` classifies it by its words.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import {
  BITS,
  closingEscapeQuote,
  closingQuote,
  continuationQuote,
  ESCAPE,
  isIdentPart,
  isIdentStart,
  isNumberPart,
  isSpace,
  lineColumnAt,
  lineEnd,
  noteGapComments,
  PLAIN,
  skipBlockComment,
  type StringMode,
} from "./sql_chars.ts";
import {
  type ChunkState,
  finishChunks,
  newChunk,
  notePunctuation,
  noteQuotedIdentifier,
  noteWord,
  pushToken,
  type RawChunk,
  type Statement,
} from "./sql_chunk.ts";

export type { Statement };

/** Options for error messages: the file the text came from. */
export interface LexOptions {
  readonly file?: string;
}

// The server takes any non-ASCII character for a tag character; U+FEFF is left
// out so that an invisible byte order mark in a tag is reported, not obeyed.
const DOLLAR_TAG =
  /\$([A-Za-z_\u0080-\ufefe\uff00-\uffff][A-Za-z0-9_\u0080-\ufefe\uff00-\uffff]*)?\$/y;
const BOM = 0xfeff;

/** The text being split and what the caller wants back besides the chunks. */
interface Scan {
  readonly text: string;
  readonly file: string | undefined;
  /** Collects the start of every real `--` comment, for `findLineComments`. */
  readonly comments: number[] | undefined;
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
    noteQuotedIdentifier(st);
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
