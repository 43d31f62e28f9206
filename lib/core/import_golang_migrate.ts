/**
 * golang-migrate's migrations to strata pairs. The layout is the same
 * (`<version>_<title>.up.sql` / `.down.sql`), so files are copied. golang-
 * migrate sends each file to the server as written, without a transaction
 * of its own: a file that strata would refuse to run in its transaction
 * (its own BEGIN/COMMIT mixed with other SQL, or CREATE INDEX CONCURRENTLY
 * beside other statements) gets `-- transaction: false`, which runs it as
 * written too. Pure.
 *
 * @module
 */

import type { FileEntry } from "./files.ts";
import {
  type Conversion,
  type ConvertedFile,
  eachSource,
  needsOwnTransactions,
  renderFile,
} from "./import_common.ts";

const NAME = /^(\d+)_(.*)\.(up|down)\.sql$/i;

/** Convert a golang-migrate source directory's entries. Never throws; see `Conversion`. */
export function convertGolangMigrate(entries: readonly FileEntry[]): Conversion {
  const files: ConvertedFile[] = [];
  const notes: string[] = [];
  const refusals: string[] = [];
  const walk = {
    name: NAME,
    what: "golang-migrate migration (<version>_<title>.up.sql or .down.sql)",
    notes,
    refusals,
  };
  eachSource(entries, walk, (entry, { text, match }) => {
    const ownTransactions = needsOwnTransactions(text, entry.name);
    if (ownTransactions) {
      notes.push(
        `"${entry.name}" runs its own transaction control: "-- transaction: false" added ` +
          "(statement by statement, as golang-migrate ran it)",
      );
    }
    const header = [["transaction", ownTransactions ? "false" : undefined]] as const;
    files.push({
      name: `${match[1]}_${match[2] || "migration"}.${match[3].toLowerCase()}.sql`,
      text: renderFile(`imported from golang-migrate "${entry.name}"`, header, text),
      source: entry.name,
    });
  });
  return { tool: "golang-migrate", files, notes, refusals };
}
