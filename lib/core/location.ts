/**
 * Map a server error position (1-based, counted in characters of the text
 * that was sent), or a parser's UTF-8 byte offset, back to a line and column
 * of the file, and draw the line with a caret. Pure; walks by code point, so
 * non-ASCII text maps correctly.
 *
 * @module
 */

/** A place in a file: 1-based line and code-point column, and the line's text. */
export interface Location {
  readonly line: number;
  readonly column: number;
  readonly lineText: string;
}

/**
 * The location in `text` of the server's 1-based character `position`, after
 * subtracting `prefixChars` characters that were sent before the text.
 * Returns undefined when the position lies before the text (in what strata sent first).
 */
export function locatePosition(
  text: string,
  position: number,
  prefixChars = 0,
): Location | undefined {
  const target = position - 1 - prefixChars;
  if (!Number.isInteger(target) || target < 0) return undefined;
  let line = 1;
  let lineStart = 0;
  let i = 0;
  // Past the end (an error in what strata appended, such as "at end of input"
  // after an unclosed parenthesis) maps to the end of the file.
  for (let count = 0; count < target && i < text.length; count++) {
    const code = text.codePointAt(i)!;
    i += code > 0xffff ? 2 : 1;
    if (code === 10 && i < text.length) {
      line++;
      lineStart = i;
    }
  }
  const lineEnd = text.indexOf("\n", lineStart);
  const lineText = text.slice(lineStart, lineEnd === -1 ? text.length : lineEnd);
  const column = Math.min([...text.slice(lineStart, i)].length, [...lineText].length) + 1;
  return { line, column, lineText };
}

/**
 * The location in `text` of the UTF-8 byte offset `byte` (how PostgreSQL's
 * parser counts). One past the end maps to the end of the file, as
 * `locatePosition` does.
 */
export function locateByte(text: string, byte: number): Location {
  const before = new TextDecoder().decode(new TextEncoder().encode(text).subarray(0, byte));
  return locatePosition(text, [...before].length + 1)!;
}

/** Two lines: the source line and a caret under `column` (tabs kept so the caret lines up). */
export function caretSnippet(location: Location): string[] {
  const prefix = [...location.lineText].slice(0, location.column - 1)
    .map((ch) => (ch === "\t" ? "\t" : " ")).join("");
  const gutter = `${location.line} | `;
  return [gutter + location.lineText, " ".repeat(gutter.length - 2) + "| " + prefix + "^"];
}
