/**
 * Parse the header block of a migration file: the `-- key: value` comment
 * lines before the first statement (blank lines and block comments, such as
 * a licence, may come first or between them). The keys are in
 * `header_keys.ts`. Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { type Header, HEADER_KEY_NAMES, type KeySpec, keySpec } from "./header_keys.ts";
import { isSpace, lineEnd, skipBlockComment } from "./sql_chars.ts";
import { closestWord } from "./words.ts";

export type { Header } from "./header_keys.ts";

const KEY_LINE = /^--\s*([A-Za-z][A-Za-z0-9_-]*)\s*:\s?(.*)$/;
const LATER_KEY_LINE = /^[ \t]*--[ \t]*([A-Za-z][A-Za-z0-9_-]*)[ \t]*:/gm;

/** Options of `parseHeader`. */
export interface HeaderOptions {
  /**
   * The UTF-16 indexes where real `--` comments start (from the lexer). When
   * given, a known key written as a comment after the header is an error.
   */
  readonly lineComments?: () => readonly number[];
}

/**
 * Parse the header of `text` (already normalised: LF line ends, no BOM).
 * Returns `{}` when there is no header. Throws `HEADER_UNKNOWN_KEY` for a key
 * within two edits of a known one, `HEADER_BAD_VALUE` for a bad value,
 * `HEADER_DUPLICATE_KEY` for a repeated key and `HEADER_MISPLACED` for a key
 * line after the first statement, each naming file and line.
 */
export function parseHeader(text: string, file: string, options: HeaderOptions = {}): Header {
  const values = new Map<KeySpec, { value: string; line: number }>();
  const end = scanHeader(text, (raw, value, line) => {
    const spec = resolveKey(raw, file, line);
    if (spec === undefined) return;
    const first = values.get(spec);
    if (first) {
      throw new StrataError(
        "HEADER_DUPLICATE_KEY",
        `Cannot read header of "${file}" line ${line}: key "${spec.key}" is given twice`,
        { file, line, hint: `It was first given on line ${first.line}` },
      );
    }
    values.set(spec, { value: value.trim(), line });
  });
  if (options.lineComments) refuseLaterKeys(text, end, file, options.lineComments);
  return buildHeader(values, file);
}

/**
 * Walk the header: white space, block comments and `--` lines, calling
 * `onKey` for each `-- key: value` line. Returns the index of the first
 * token after the header.
 */
function scanHeader(
  text: string,
  onKey: (key: string, value: string, line: number) => void,
): number {
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === "\n") line++;
    if (isSpace(text.charCodeAt(i))) {
      i++;
    } else if (c === "-" && text[i + 1] === "-") {
      const end = lineEnd(text, i);
      const m = KEY_LINE.exec(text.slice(i, end).trimEnd());
      if (m) onKey(m[1], m[2], line);
      i = end;
    } else if (c === "/" && text[i + 1] === "*") {
      const closed = skipBlockComment(text, i);
      const end = closed === -1 ? n : closed;
      for (let k = i; k < end; k++) if (text[k] === "\n") line++;
      i = end;
    } else {
      return i;
    }
  }
  return n;
}

function refuseLaterKeys(
  text: string,
  end: number,
  file: string,
  lineComments: () => readonly number[],
): void {
  LATER_KEY_LINE.lastIndex = end;
  let comments: ReadonlySet<number> | undefined;
  for (let m = LATER_KEY_LINE.exec(text); m; m = LATER_KEY_LINE.exec(text)) {
    const spec = keySpec(canonical(m[1]));
    if (!spec) continue;
    comments ??= new Set(lineComments());
    const dash = m.index + m[0].indexOf("--");
    if (!comments.has(dash)) continue;
    const line = text.slice(0, dash).split("\n").length;
    throw new StrataError(
      "HEADER_MISPLACED",
      `Cannot read header of "${file}" line ${line}: "${spec.key}" comes after the first ` +
        "statement, where it would be silently ignored",
      {
        file,
        line,
        hint: "Move the line up into the header (before the first statement; block comments " +
          "may come first), or drop the colon if it is a plain comment",
      },
    );
  }
}

function canonical(raw: string): string {
  return raw.toLowerCase().replaceAll("_", "-");
}

function resolveKey(raw: string, file: string, line: number): KeySpec | undefined {
  const key = canonical(raw);
  const spec = keySpec(key);
  if (spec) return spec;
  const near = closestKey(key);
  if (near === undefined) return undefined;
  throw new StrataError(
    "HEADER_UNKNOWN_KEY",
    `Cannot read header of "${file}" line ${line}: unknown key "${raw}"`,
    {
      file,
      line,
      hint: `Did you mean "${near}"? A misspelt key would be silently ignored, so strata ` +
        `refuses it; write it as a plain comment without the colon if it is not a header key`,
    },
  );
}

/** The known key within edit distance 2 of `key`, if any (the closest one). */
export function closestKey(key: string): string | undefined {
  return closestWord(key, HEADER_KEY_NAMES);
}

function buildHeader(values: Map<KeySpec, { value: string; line: number }>, file: string): Header {
  const header: Record<string, unknown> = {};
  for (const [spec, { value, line }] of values) {
    const parsed = spec.parse(value);
    if (parsed === undefined) {
      throw new StrataError(
        "HEADER_BAD_VALUE",
        `Cannot read header of "${file}" line ${line}: bad value "${value}" for "${spec.key}"`,
        { file, line, hint: `Expected ${spec.expected}` },
      );
    }
    header[spec.field] = parsed;
  }
  return header as Header;
}
