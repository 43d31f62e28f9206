/**
 * Quoting of identifiers and literals for SQL text that strata assembles, and
 * redaction of connection URLs. Pure.
 *
 * @module
 */

import type { TableName } from "./types.ts";

/** `name` as a double-quoted identifier, inner quotes doubled. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table` with both parts quoted. */
export function quoteTable(table: TableName, suffix = ""): string {
  return `${quoteIdent(table.schema)}.${quoteIdent(table.name + suffix)}`;
}

/**
 * `value` as a standard-conforming string literal (quotes doubled). Throws on
 * a NUL character, which PostgreSQL text cannot hold.
 */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new TypeError("A SQL literal cannot contain a NUL character");
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * `url` with its password replaced by `***`. Text that is not a URL is
 * returned with anything between `://user:` and `@` masked.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");
  }
}
