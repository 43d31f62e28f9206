import assert from "node:assert/strict";
import {
  attachEnv,
  maskEnvValues,
  originalPosition,
  restoreServerError,
  substituteEnv,
} from "../lib/core/env_subst.ts";
import { createDbServerError } from "../lib/core/db_error.ts";
import { loadMigrations } from "../lib/core/files.ts";
import type { Migration } from "../lib/core/types.ts";
import { runCli, serverTest, tempMigrations } from "./_helpers.ts";

async function load(files: Record<string, string>): Promise<Migration[]> {
  const enc = new TextEncoder();
  const r = await loadMigrations(
    Object.entries(files).map(([name, text]) => ({ name, bytes: enc.encode(text) })),
  );
  assert.deepEqual(r.problems, []);
  return [...r.migrations];
}

const FILE =
  "-- env: ROLE, PW\nCREATE ROLE ${ROLE} LOGIN PASSWORD '${PW}';\nSELECT '${HOME}', ${ROLE};\n";

Deno.test("substituteEnv() replaces declared names only, and leaves undeclared ${...} alone", async () => {
  const [m] = attachEnv(await load({ "0001_a.up.sql": FILE }), { ROLE: "app", PW: "s3cr3t!" });
  const out = substituteEnv(m.up, m.up.text);
  assert.equal(
    out.text,
    "-- env: ROLE, PW\nCREATE ROLE app LOGIN PASSWORD 's3cr3t!';\nSELECT '${HOME}', app;\n",
  );
  assert.equal(out.spans.length, 3);
  const restored = out.spans.reduceRight(
    (t, s) => {
      const chars = [...t];
      const at = s.at + out.spans.filter((x) => x.at < s.at).reduce(
        (n, x) => n + x.valueLength - x.originalLength,
        0,
      );
      return [...chars.slice(0, at), `\${${s.name}}`, ...chars.slice(at + s.valueLength)].join("");
    },
    out.text,
  );
  assert.equal(restored, m.up.text, "putting each span back gives the text as written");
});

Deno.test("substituteEnv() changes nothing without attached values; attachEnv() keeps only set names", async () => {
  const [m] = await load({ "0001_a.up.sql": FILE });
  assert.deepEqual(substituteEnv(m.up, m.up.text), { text: m.up.text, spans: [] });
  const [partly] = attachEnv([m], { ROLE: "app" });
  assert.deepEqual(partly.up.env, { ROLE: "app" });
  assert.throws(() => substituteEnv(partly.up, partly.up.text), /ENV_UNSET|PW is not set/);
  assert.equal(attachEnv([m], undefined)[0].up.env, undefined);
});

Deno.test("originalPosition() maps offsets after, inside and before values back to the file", () => {
  const spans = [{ name: "A", at: 5, originalLength: 4, valueLength: 10 }];
  assert.equal(originalPosition(spans, 2), 2);
  assert.equal(originalPosition(spans, 7), 5);
  assert.equal(originalPosition(spans, 15), 9);
  assert.equal(originalPosition(spans, 20), 14);
});

Deno.test("maskEnvValues() shows values as ${NAME} and leaves other words whole", async () => {
  const [m] = attachEnv(await load({ "0001_a.up.sql": FILE }), { ROLE: "app", PW: "s3cr3t!" });
  assert.equal(
    maskEnvValues('role "app" exists; application s3cr3t! app_x', m.up),
    'role "${ROLE}" exists; application ${PW} app_x',
  );
});

Deno.test("restoreServerError() maps the position into the file as written and masks values", async () => {
  const [m] = attachEnv(await load({ "0001_a.up.sql": FILE }), { ROLE: "a_long_role", PW: "pw" });
  const sent = substituteEnv(m.up, m.up.text).text;
  const at = [...sent].indexOf("SELECT") + 1;
  const err = createDbServerError({
    sqlstate: "42601",
    message: 'syntax error near "a_long_role"',
    position: 3 + at,
  });
  const shown = restoreServerError(err, m.up, { start: 3, text: m.up.text });
  assert.equal(shown.message, 'syntax error near "${ROLE}"');
  assert.equal(shown.position, 3 + [...m.up.text].indexOf("SELECT") + 1);
  assert.equal(shown.cause, undefined, "the unmasked error is not kept");
});

const ROLE_FILES = {
  "0001_role.up.sql": "-- env: APP_ROLE, APP_PASSWORD\n" +
    "CREATE ROLE ${APP_ROLE} LOGIN PASSWORD '${APP_PASSWORD}';\n" +
    "CREATE TABLE notes (body text DEFAULT '${NOT_DECLARED}');\n",
  "0001_role.down.sql": "-- env: APP_ROLE\nDROP TABLE notes;\nDROP ROLE ${APP_ROLE};\n",
};

serverTest(
  "upgrade substitutes ${NAME}; values never reach output or the log table",
  async (db) => {
    const dir = await tempMigrations(ROLE_FILES);
    const role = `strata_test_role_${crypto.randomUUID().slice(0, 8)}`;
    const env = { DATABASE_URL: db.url, APP_ROLE: role, APP_PASSWORD: "Pa55word-xyz" };
    try {
      const missing = await runCli(["--dir", dir, "upgrade"], {
        env: { DATABASE_URL: db.url, APP_ROLE: role },
      });
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /ENV_UNSET[\s\S]*"0001_role.up.sql": APP_PASSWORD/);
      const [{ t }] = await db.sql`SELECT to_regclass('public.strata_migrations') AS t`;
      assert.equal(t, null, "nothing ran: not even the version table was created");

      const up = await runCli(["--dir", dir, "upgrade"], { env });
      assert.equal(up.code, 0, up.stderr);
      const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM pg_roles WHERE rolname = ${role}`;
      assert.equal(n, 1);
      const [{ d }] = await db.sql`SELECT column_default AS d FROM information_schema.columns
      WHERE table_name = 'notes'`;
      assert.equal(d, "'${NOT_DECLARED}'::text", "an undeclared ${...} is left alone");
      const log = await db.sql`SELECT row_to_json(l)::text AS r FROM strata_migrations_log l`;
      assert.ok(log.length > 0, "the log table has rows to check");
      for (const r of log) assert.ok(!r.r.includes("Pa55word"), r.r);
      assert.ok(!(up.stdout + up.stderr).includes("Pa55word"));

      const other = await runCli(["--dir", dir, "status", "--exit-code"], {
        env: { ...env, APP_PASSWORD: "different-value" },
      });
      assert.equal(
        other.code,
        0,
        "the checksum covers the text before substitution: " + other.stdout,
      );

      const down = await runCli(["--dir", dir, "downgrade", "base"], { env });
      assert.equal(down.code, 0, down.stderr);
    } finally {
      await db.sql.unsafe(`DROP ROLE IF EXISTS ${role}`);
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "--dry-run prints ${NAME} unless --resolve-env; --resolve-env needs --dry-run",
  async (db) => {
    const dir = await tempMigrations(ROLE_FILES);
    const env = { DATABASE_URL: db.url, APP_ROLE: "r1", APP_PASSWORD: "Pa55word-xyz" };
    try {
      const plain = await runCli(["--dir", dir, "upgrade", "--dry-run", "--from", "base"], {
        env: {},
      });
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /CREATE ROLE \$\{APP_ROLE\} LOGIN PASSWORD '\$\{APP_PASSWORD\}'/);
      const resolved = await runCli(
        ["--dir", dir, "upgrade", "--dry-run", "--resolve-env", "--from", "base"],
        { env },
      );
      assert.equal(resolved.code, 0, resolved.stderr);
      assert.match(resolved.stdout, /CREATE ROLE r1 LOGIN PASSWORD 'Pa55word-xyz'/);
      assert.match(resolved.stdout, /DEFAULT '\$\{NOT_DECLARED\}'/);
      const unset = await runCli(
        ["--dir", dir, "upgrade", "--dry-run", "--resolve-env", "--from", "base"],
        { env: { APP_ROLE: "r1" } },
      );
      assert.equal(unset.code, 2);
      assert.match(unset.stderr, /ENV_UNSET/);
      const wrong = await runCli(["--dir", dir, "upgrade", "--resolve-env"], { env });
      assert.equal(wrong.code, 2);
      assert.match(wrong.stderr, /--resolve-env without --dry-run/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

serverTest(
  "a failing statement with a value: masked message, position in the file as written",
  async (db) => {
    const dir = await tempMigrations({
      "0001_bad.up.sql": "-- env: TABLE_OWNER_NAME\n" +
        "CREATE TABLE t (x int);\nSELECT 1; SELECT '${TABLE_OWNER_NAME}'::regrole;\n",
    });
    try {
      const r = await runCli(["--dir", dir, "upgrade"], {
        env: { DATABASE_URL: db.url, TABLE_OWNER_NAME: "no_such_role_qq" },
      });
      assert.equal(r.code, 1, r.stderr);
      const [{ t }] = await db.sql`SELECT to_regclass('public.t')::text AS t`;
      assert.equal(t, null, "the failed migration left nothing behind");
      assert.match(r.stderr, /role "\$\{TABLE_OWNER_NAME\}" does not exist/);
      assert.match(r.stderr, /at .*0001_bad\.up\.sql:3:18\n/);
      assert.match(r.stderr, /3 \| SELECT 1; SELECT '\$\{TABLE_OWNER_NAME\}'::regrole;/);
      assert.ok(!r.stderr.includes("no_such_role_qq"), r.stderr);
      const log = await db.sql`SELECT detail FROM strata_migrations_log`;
      assert.equal(log.length, 1);
      assert.match(log[0].detail, /\$\{TABLE_OWNER_NAME\}/);
      assert.ok(!log[0].detail.includes("no_such_role_qq"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
