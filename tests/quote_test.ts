import assert from "node:assert/strict";
import { quoteIdent, quoteLiteral, quoteTable, redactUrl } from "../lib/core/quote.ts";

Deno.test("quoteIdent(), quoteLiteral() and quoteTable() double their quotes", () => {
  assert.equal(quoteIdent('a"b'), '"a""b"');
  assert.equal(quoteLiteral("it's"), "'it''s'");
  assert.equal(quoteTable({ schema: "s", name: 't"; DROP' }, "_log"), '"s"."t""; DROP_log"');
  assert.throws(() => quoteLiteral("a\0b"));
});

Deno.test("redactUrl() masks the password", () => {
  assert.equal(redactUrl("postgres://u:secret@h:5432/d"), "postgres://u:***@h:5432/d");
  assert.equal(redactUrl("postgres://u@h/d"), "postgres://u@h/d");
  assert.equal(redactUrl("garbage //u:secret@h"), "garbage //u:***@h");
});

Deno.test("redactUrl() masks passwords of any length and encoding, in user info and parameters", () => {
  const cases: Array<[string, string]> = [
    ["postgres://u@127.0.0.1:55499/db?password=abc%21defgh", "abc%21defgh"],
    ["postgres://u@h/db?password=my+secret+pw", "my+secret+pw"],
    ["postgres://u@h/db?sslmode=require&password=xyz", "xyz"],
    ["postgres://u@h/db?PASSWORD=xyz&sslmode=disable", "xyz"],
    ["postgres://u:%70%61%73%73%77%6F%72%64%31%32%33%34%35%36%37%38%39%30@h/db", "%70%61%73%73"],
    ["postgres://u:p@ss:w@rd@h/db", "p@ss"],
    ["postgres://u:a@h/db", "u:a@"],
    ["host=h password=hunter2 dbname=d", "hunter2"],
  ];
  for (const [url, secret] of cases) {
    const shown = redactUrl(url);
    assert.ok(!shown.includes(secret), `${url} -> ${shown}`);
    assert.ok(shown.includes("***"), shown);
  }
  assert.equal(
    redactUrl("postgres://u@h/db?sslmode=require&password=xyz&connect_timeout=3"),
    "postgres://u@h/db?sslmode=require&password=***&connect_timeout=3",
  );
});
