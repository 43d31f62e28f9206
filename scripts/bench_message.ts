/**
 * What each migration's message costs the server, form by form: tiny
 * migrations (one `CREATE TABLE` each) sent over strata's wire driver to one
 * database per form, interleaved file by file (the next file of every form,
 * in alternating order) so that this machine's changing disk and CPU speed
 * fall on every form alike. Prints milliseconds per migration and the ratio
 * to psql's way (three round trips, nothing recorded). Not a test.
 *
 *   deno run -A scripts/bench_message.ts [--files 1000]
 *
 * Forms: `psql` (BEGIN, the file, COMMIT, each its own message: what `psql -f`
 * sends); `strata` (the exact text the runner sends: one message with the
 * file, the session restore for this server, the version and log rows
 * through the session's prepared statements, COMMIT); `strata, portable restore` (the same with the
 * restore the offline dry-run script uses); `strata, no restore` (the restore
 * left out, and with it the reset of role and timeouts before strata's
 * writes: what it costs; not a safe form).
 *
 * Server: STRATA_BENCH_URL, default postgres://postgres@127.0.0.1:5432/postgres.
 */

import postgres from "postgres";
import { parseDatabaseUrl } from "../lib/core/database_url.ts";
import { loadMigrations } from "../lib/core/files.ts";
import { renderTransactionalStep, type ScriptContext } from "../lib/core/script.ts";
import { RESTORE_SESSION } from "../lib/core/session_sql.ts";
import type { Db, Step } from "../lib/core/types.ts";
import { renderPrepareRecord } from "../lib/core/version_rows.ts";
import { renderCreateTables } from "../lib/core/version_table.ts";
import { STRATA_VERSION } from "../lib/core/version.ts";
import { prepareSession, sessionRestore } from "../lib/db/session.ts";
import { createWireDb } from "../lib/db/wire.ts";

const flag = Deno.args.indexOf("--files");
const FILES = flag === -1 ? 1000 : Number(Deno.args[flag + 1]);
const ADMIN_URL = Deno.env.get("STRATA_BENCH_URL") ?? "postgres://postgres@127.0.0.1:5432/postgres";
const table = { schema: "public", name: "strata_migrations" };
const base: ScriptContext = { table, strataVersion: STRATA_VERSION };

const enc = new TextEncoder();
const { migrations } = await loadMigrations(
  Array.from({ length: FILES }, (_, i) => ({
    name: `${String(i + 1).padStart(4, "0")}_t${i + 1}.up.sql`,
    bytes: enc.encode(`CREATE TABLE t${i + 1} (id int PRIMARY KEY, note text DEFAULT 'x');\n`),
  })),
);
const steps: Step[] = migrations.map((migration) => ({ kind: "up", migration }));

/** Each form: the messages of migration `i` on session `db`. */
const FORMS: Record<string, (db: Db, i: number) => string[]> = {
  "psql": (_db, i) => ["BEGIN", steps[i].migration.up.text, "COMMIT"],
  "strata": (db, i) => [whole(steps[i], { ...base, restore: sessionRestore(db) })],
  "strata, portable restore": (_db, i) => [whole(steps[i], { ...base, restore: RESTORE_SESSION })],
  "strata, no restore": (_db, i) => [whole(steps[i], { ...base, restore: "" })],
};

function whole(step: Step, ctx: ScriptContext): string {
  const sql = renderTransactionalStep(step, ctx);
  return sql.prefix + sql.body + sql.suffix;
}

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const names = Object.keys(FORMS);
const sessions: Array<{ name: string; database: string; db: Db; ms: number }> = [];
try {
  for (const [k, name] of names.entries()) {
    const database = `strata_bench_message_${k}_${crypto.randomUUID().slice(0, 8)}`;
    await admin.unsafe(`CREATE DATABASE ${database}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${database}`;
    const db = createWireDb(parseDatabaseUrl(url.toString(), "STRATA_BENCH_URL"));
    sessions.push({ name, database, db, ms: 0 });
    await prepareSession(db, { writable: true });
    await db.runScript(renderCreateTables(table, { schema: true }));
    await db.runScript(renderPrepareRecord(base));
  }
  // Every message built (and each file's hashes computed) before any is timed: only sending is.
  const messages = sessions.map((s) =>
    Array.from({ length: FILES }, (_, i) => FORMS[s.name](s.db, i))
  );
  for (let i = 0; i < FILES; i++) {
    const order = [...sessions.keys()];
    for (const k of i % 2 === 0 ? order : order.reverse()) {
      const s = sessions[k];
      const t0 = performance.now();
      for (const message of messages[k][i]) await s.db.runScript(message);
      s.ms += performance.now() - t0;
    }
  }
  const psql = sessions[0].ms;
  console.log(`| form | ms per migration | / psql |\n| --- | --- | --- |`);
  for (const s of sessions) {
    console.log(`| ${s.name} | ${(s.ms / FILES).toFixed(3)} | ${(s.ms / psql).toFixed(3)}x |`);
  }
} finally {
  for (const s of sessions) {
    await s.db.close().catch(() => {});
    await admin.unsafe(`DROP DATABASE IF EXISTS ${s.database} WITH (FORCE)`).catch((err) =>
      console.error(`could not drop ${s.database}: ${err.message}`)
    );
  }
  await admin.end();
}
