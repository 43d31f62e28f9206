/**
 * Character-level reading for the SQL lexer (`sql_lexer.ts`): scan.l's
 * character classes; where a line, a block comment, the body of a '-quoted
 * string and its continuation across a newline end (each scanner takes the
 * text and a UTF-16 index and returns an index, or -1 when the construct is
 * never closed); and a UTF-16 index as line, code-point column and UTF-8
 * byte offset. Pure.
 *
 * @module
 */

/** How a '-quoted string ends (scan.l's states xq / xus, xe, and xb / xh). */
export type StringMode = 0 | 1 | 2;
/** '' N'' U&'': `''` is a quote inside the string, a backslash is a character. */
export const PLAIN: StringMode = 0;
/** E'': `''` is a quote, a backslash escapes the character after it. */
export const ESCAPE: StringMode = 1;
/** B'' X'': the next quote ends the part; there is no `''`. */
export const BITS: StringMode = 2;

// Character classes by code, not by regex: the lexer runs over every file on
// every start, before the JIT has warmed up. Like the server, any non-ASCII
// character can be part of an identifier.

/** Whether code unit `c` can start an identifier or keyword (letters, `_`, any non-ASCII). */
export function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 0x80;
}

/** Whether code unit `c` can continue an identifier: a start character, a digit or `$`. */
export function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

/** Whether code unit `c` continues a number token: a digit, a letter, `_` or `.`. */
export function isNumberPart(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 ||
    c === 46;
}

/** scan.l's {space}: space, tab, LF, CR, form feed, vertical tab. */
export function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 11;
}

/** Index of the LF that ends the line holding `i`, or the end of the text. */
export function lineEnd(text: string, i: number): number {
  const nl = text.indexOf("\n", i);
  return nl === -1 ? text.length : nl;
}

/** Index just past the `*\/` that closes the block comment at `i`, or -1. */
export function skipBlockComment(text: string, i: number): number {
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

/** Index of the quote that ends a PLAIN or BITS string body starting at `from`, or -1. */
export function closingQuote(text: string, from: number, mode: StringMode): number {
  let j = from;
  for (;;) {
    const k = text.indexOf("'", j);
    if (k === -1 || mode === BITS || text.charCodeAt(k + 1) !== 39) return k;
    j = k + 2;
  }
}

/** Index of the quote that ends an E'' string body starting at `from`, or -1. */
export function closingEscapeQuote(text: string, from: number): number {
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
export function continuationQuote(text: string, from: number): number {
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
export function noteGapComments(comments: number[], text: string, from: number, to: number): void {
  for (let j = text.indexOf("--", from); j !== -1 && j < to; j = text.indexOf("--", j)) {
    comments.push(j);
    j = lineEnd(text, j);
  }
}

/** A position in a text: UTF-16 index, 1-based line and code-point column, UTF-8 byte offset. */
export interface TextCursor {
  index: number;
  line: number;
  column: number;
  byte: number;
}

/** Move `cursor` forward to `target`, counting lines, code-point columns and UTF-8 bytes. */
export function advanceCursor(
  text: string,
  cursor: TextCursor,
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
