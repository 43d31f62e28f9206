/**
 * A plain-SQL dump of a scratch database, for squash baselines: pg_dump
 * compiled to WebAssembly for the embedded database (loaded only here), or
 * the `pg_dump` program on PATH for a server. Both dump schema and data
 * (`--inserts`, because strata runs SQL, not psql's COPY), without owners or
 * tablespaces, and without strata's own tables.
 *
 * @module
 */

import { type DatabaseTarget, isEmbedded } from "../core/database_url.ts";
import { StrataError } from "../core/errors.ts";
import { quoteTable } from "../core/quote.ts";
import type { Db, TableName } from "../core/types.ts";
import { embeddedInstance } from "./pglite.ts";

/** The dump's text and what made it (`pg_dump 15.19`). */
export interface Dump {
  readonly sql: string;
  readonly dumper: string;
}

function dumpArgs(table: TableName): string[] {
  return [
    "--no-owner",
    "--no-tablespaces",
    "--inserts",
    "--rows-per-insert=500",
    `--exclude-table=${quoteTable(table)}`,
    `--exclude-table=${quoteTable(table, "_log")}`,
  ];
}

/**
 * Dump the database `db` (at `target`). Throws `TOOL_FAILED` when pg_dump is
 * missing or fails, naming the fix.
 */
export async function dumpDatabase(
  db: Db,
  target: DatabaseTarget,
  table: TableName,
): Promise<Dump> {
  if (isEmbedded(target)) {
    const pg = embeddedInstance(db);
    if (!pg) throw new Error("the embedded scratch database has no PGlite instance");
    const { pgDump } = await import("@electric-sql/pglite-tools/pg_dump");
    const file = await pgDump({ pg, args: dumpArgs(table) });
    return { sql: await file.text(), dumper: "pg_dump (PGlite, PostgreSQL 18)" };
  }
  return await serverDump(target, table);
}

async function serverDump(target: Exclude<DatabaseTarget, { kind: "pglite" }>, table: TableName) {
  const env: Record<string, string> = {
    PGHOST: target.socketDir ?? target.host,
    PGPORT: String(target.port),
    PGUSER: target.user,
    PGDATABASE: target.database,
    PGSSLMODE: target.sslmode,
  };
  if (target.password) env.PGPASSWORD = target.password;
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("pg_dump", {
      args: dumpArgs(table),
      env,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
  } catch (err) {
    throw new StrataError("TOOL_FAILED", `Cannot run pg_dump: ${(err as Error).message}`, {
      hint: "Install PostgreSQL's client programs (pg_dump, of your server's major version or " +
        "newer) and run strata with --allow-run=pg_dump, or squash on the embedded database",
      cause: err,
    });
  }
  if (!out.success) {
    throw new StrataError("TOOL_FAILED", `Cannot dump the scratch database: pg_dump failed`, {
      details: new TextDecoder().decode(out.stderr).trim().split("\n"),
      hint: "pg_dump must be of the server's major version or newer",
    });
  }
  const version = await new Deno.Command("pg_dump", { args: ["--version"], stdout: "piped" })
    .output();
  return {
    sql: new TextDecoder().decode(out.stdout),
    dumper: new TextDecoder().decode(version.stdout).trim().replace(
      /^pg_dump \(PostgreSQL\) /,
      "pg_dump ",
    ),
  };
}
