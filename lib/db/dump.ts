/**
 * A plain-SQL dump of a scratch database, for squash baselines: pg_dump
 * compiled to WebAssembly for the embedded database (loaded only here), or
 * the `pg_dump` program on PATH for a server. Both dump schema and data
 * (`--inserts`, because strata runs SQL, not psql's COPY), without owners or
 * tablespaces, and without strata's own tables.
 *
 * @module
 */

import { type ConnectionOptions, type DatabaseTarget, isEmbedded } from "../core/database_url.ts";
import { StrataError } from "../core/errors.ts";
import { quoteTable } from "../core/quote.ts";
import type { Db, TableName } from "../core/types.ts";

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
    const { embeddedInstance } = await import("./pglite.ts");
    const pg = embeddedInstance(db);
    if (!pg) throw new Error("the embedded scratch database has no PGlite instance");
    const { pgDump } = await import("@electric-sql/pglite-tools/pg_dump");
    const file = await pgDump({ pg, args: dumpArgs(table) });
    return { sql: await file.text(), dumper: "pg_dump (PGlite, PostgreSQL 18)" };
  }
  return await serverDump(target, table);
}

/** A libpq value in single quotes (backslash and quote escaped). */
function conninfoValue(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

/**
 * The connection as one libpq conninfo string, so pg_dump reaches the same
 * server, with the same TLS settings, as strata did. The password goes in the
 * environment, never on the command line.
 */
export function dumpConninfo(target: ConnectionOptions): string {
  const pairs: Array<[string, string | number | undefined]> = [
    ["host", target.socketDir ?? target.host],
    ["port", target.port],
    ["user", target.user],
    ["dbname", target.database],
    ["sslmode", target.sslmode],
    ["sslrootcert", target.sslRootCert],
    ["options", target.options],
    ["application_name", target.applicationName ?? "strata"],
    ["connect_timeout", target.connectTimeoutSeconds],
  ];
  return pairs.filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${conninfoValue(String(v))}`).join(" ");
}

/**
 * What pg_dump may see of strata's environment: no PG* variable (a PGSERVICE,
 * PGOPTIONS or PGSSLMODE there would change the connection), but the path,
 * the home folder and PGPASSFILE (for ~/.pgpass) and the locale.
 */
function dumpEnv(password: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "PGPASSFILE", "LANG", "LC_ALL", "LC_MESSAGES"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  if (password) env.PGPASSWORD = password;
  return env;
}

async function serverDump(target: ConnectionOptions, table: TableName) {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("pg_dump", {
      args: [...dumpArgs(table), `--dbname=${dumpConninfo(target)}`],
      clearEnv: true,
      env: dumpEnv(target.password),
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
  const sql = new TextDecoder().decode(out.stdout);
  // The dump names its maker: "-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)".
  const version = /^-- Dumped by pg_dump version (\S+)/m.exec(sql)?.[1];
  return { sql, dumper: version ? `pg_dump ${version}` : "pg_dump" };
}
