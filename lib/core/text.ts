/**
 * Migration files as text: UTF-8 decoded strictly (a lenient decoder turns
 * bad bytes into U+FFFD silently), BOM stripped, CRLF read as LF. Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";

/**
 * Decode UTF-8 strictly, strip a BOM and read CRLF (and lone CR) as LF.
 * Throws `INVALID_TEXT` naming the file and the byte offset of a NUL byte or
 * of the first invalid UTF-8 sequence.
 */
// One decoder for every file: a fatal decoder holds no state between calls.
const DECODER = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export function decodeText(bytes: Uint8Array, fileName: string): string {
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw new StrataError(
      "INVALID_TEXT",
      `Cannot read "${fileName}": NUL byte at byte offset ${nul}`,
      { file: fileName, hint: "A migration must be UTF-8 text; is this a binary file?" },
    );
  }
  let text: string;
  try {
    text = DECODER.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new StrataError(
      "INVALID_TEXT",
      `Cannot read "${fileName}": invalid UTF-8 at byte offset ${at}`,
      { file: fileName, hint: "Save the file as UTF-8 (it may be Latin-1 or Windows-1252)" },
    );
  }
  return text.includes("\r") ? text.replace(/\r\n?/g, "\n") : text;
}

/** Byte offset of the first invalid UTF-8 sequence in `bytes`, or -1 when valid. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80
      ? 1
      : b >= 0xc2 && b <= 0xdf
      ? 2
      : b >= 0xe0 && b <= 0xef
      ? 3
      : b >= 0xf0 && b <= 0xf4
      ? 4
      : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    const b1 = bytes[i + 1];
    if (
      (b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) ||
      (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)
    ) return i;
    i += len;
  }
  return -1;
}
