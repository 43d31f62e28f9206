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
 * `url` with every password replaced by `***`: the one in the user info
 * (`//user:PASSWORD@`, up to the last `@` before the path, so an unencoded
 * `@` in it is covered too) and every `password=` parameter, whatever its
 * length or encoding. Works on the text as written (no URL parsing, so it
 * cannot throw or re-encode), and on text that is not a URL.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/[^/?#@:]*:)[^/?#]*@/, "$1***@")
    .replace(/((?:^|[?&\s])password\s*=\s*)[^&#\s]*/gi, "$1***");
}
