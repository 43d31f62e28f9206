import assert from "node:assert/strict";
import { describeError, exitCodeFor, StrataError } from "../lib/core/errors.ts";

Deno.test("exitCodeFor() follows DESIGN's table", () => {
  const table: Array<[Parameters<typeof exitCodeFor>[0], number]> = [
    ["MIGRATION_FAILED", 1],
    ["USAGE", 2],
    ["HEADER_MISPLACED", 2],
    ["CONNECTION_FAILED", 3],
    ["PERMISSION_DENIED", 3],
    ["DRIFT", 4],
    ["SCHEMA_DRIFT", 4],
    ["LINT_FAILED", 6],
    ["INTERRUPTED_BY_SIGINT", 130],
    ["INTERRUPTED_BY_SIGTERM", 143],
  ];
  for (const [code, exit] of table) assert.equal(exitCodeFor(code), exit, code);
});

Deno.test("describeError() gives the code, message, details and hint; causes only when verbose", () => {
  const root = new Error("socket closed");
  const err = new StrataError("CONNECTION_FAILED", "Cannot connect to x: refused", {
    details: ["first", "second"],
    hint: "Check the host",
    cause: new Error("wrapped", { cause: root }),
  });
  assert.equal(
    describeError(err),
    "error[CONNECTION_FAILED]: Cannot connect to x: refused\n  first\n  second\nhint: Check the host",
  );
  assert.match(
    describeError(err, { verbose: true }),
    /caused by: wrapped\ncaused by: socket closed$/,
  );
  assert.equal(describeError(new Error("plain")), "plain");
  assert.equal(describeError("text"), "text");
});
