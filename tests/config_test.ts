import assert from "node:assert/strict";
import { parseDurationOption, parseTableName } from "../lib/core/config.ts";
import { StrataError } from "../lib/core/errors.ts";

Deno.test("parseTableName() splits schema and name and refuses bad names", () => {
  assert.deepEqual(parseTableName("strata_migrations", "--table"), {
    schema: "public",
    name: "strata_migrations",
  });
  assert.deepEqual(parseTableName('ops.my"t;x', "--table"), { schema: "ops", name: 'my"t;x' });
  for (const bad of ["a.b.c", ".x", "x.", "", "x".repeat(60)]) {
    assert.throws(
      () => parseTableName(bad, "--table"),
      (e: unknown) => e instanceof StrataError && e.code === "BAD_TABLE_NAME",
    );
  }
});

Deno.test("parseDurationOption() names the option on a bad value", () => {
  assert.equal(parseDurationOption("30s", "--lock-wait"), 30000);
  assert.throws(() => parseDurationOption("forever", "--lock-wait"), /--lock-wait "forever"/);
});
