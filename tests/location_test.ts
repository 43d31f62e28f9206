import assert from "node:assert/strict";
import { caretSnippet, locateByte, locatePosition } from "../lib/core/location.ts";

Deno.test("locatePosition() maps a character position, after a prefix, to line and column", () => {
  const body = "SELECT 1;\n-- é😀\nSELEC 2;";
  const pos = [...body].indexOf("S", 10) + 1;
  assert.deepEqual(locatePosition(body, pos), { line: 3, column: 1, lineText: "SELEC 2;" });
  assert.deepEqual(locatePosition(body, pos + 7, 7), { line: 3, column: 1, lineText: "SELEC 2;" });
  const uni = "SELECT 'é😀', x y;";
  const loc = locatePosition(uni, [...uni].indexOf("y") + 1)!;
  assert.equal(loc.column, 16);
  assert.equal(locatePosition(body, 3, 7), undefined);
  assert.deepEqual(caretSnippet({ line: 3, column: 3, lineText: "\tab" }), [
    "3 | \tab",
    "  | \t ^",
  ]);
});

Deno.test("locateByte() maps UTF-8 byte offsets to lines and code-point columns", () => {
  const text = "é\n😀x;\nabc";
  assert.deepEqual(locateByte(text, 0), { line: 1, column: 1, lineText: "é" });
  assert.deepEqual(locateByte(text, 3), { line: 2, column: 1, lineText: "😀x;" });
  assert.deepEqual(locateByte(text, 7), { line: 2, column: 2, lineText: "😀x;" });
  assert.deepEqual(locateByte(text, 10), { line: 3, column: 1, lineText: "abc" });
  assert.deepEqual(locateByte(text, 13), { line: 3, column: 4, lineText: "abc" }, "the end");
  assert.deepEqual(locateByte("a;\n", 3), { line: 1, column: 3, lineText: "a;" }, "past a last LF");
});
