import assert from "node:assert/strict";
import { loadMigrations } from "../lib/core/files.ts";
import {
  formatDuration,
  formatProgress,
  formatStepLine,
  paint,
  stepLabelWidth,
  useColor,
} from "../lib/core/output.ts";

Deno.test("useColor() colours only a terminal, never with NO_COLOR set to anything", () => {
  assert.equal(useColor({ isTty: true, noColor: undefined }), true);
  assert.equal(useColor({ isTty: true, noColor: "" }), false);
  assert.equal(useColor({ isTty: false, noColor: undefined }), false);
  assert.equal(paint("x", "red", false), "x");
  assert.equal(paint("x", "red", true), "\x1b[31mx\x1b[0m");
});

Deno.test("formatDuration() reads as ms, seconds, then minutes", () => {
  assert.equal(formatDuration(12.4), "12 ms");
  assert.equal(formatDuration(1240), "1.24 s");
  assert.equal(formatDuration(125_000), "2 min 5 s");
});

Deno.test("formatStepLine() aligns lines to the widest label, or says the step ran in the batch", async () => {
  const enc = new TextEncoder();
  const { migrations } = await loadMigrations([
    { name: "0001_a.up.sql", bytes: enc.encode("SELECT 1;") },
    { name: "0002_longer_name.up.sql", bytes: enc.encode("SELECT 1;") },
  ]);
  const steps = migrations.map((migration) => ({ kind: "up" as const, migration }));
  const width = stepLabelWidth(steps);
  const lines = steps.map((s) => formatStepLine(s, 3, { width, color: false }));
  assert.deepEqual(lines, ["up    0001  a ............ 3 ms", "up    0002  longer name .. 3 ms"]);
  assert.match(formatStepLine(steps[0], null, { width, color: false }), /in the transaction$/);
  assert.equal(formatProgress(0, 3, "0001"), "\r[1/3] 0001\x1b[K");
  assert.equal(formatProgress(2, 3, "0003"), "\r[3/3] 0003\n");
});
