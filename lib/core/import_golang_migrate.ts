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
  decodeSource,
  needsOwnTransactions,
} from "./import_common.ts";

const NAME = /^(\d+)_(.*)\.(up|down)\.sql$/i;

/** Convert a golang-migrate source directory's entries. Never throws; see `Conversion`. */
export function convertGolangMigrate(entries: readonly FileEntry[]): Conversion {
  const files: ConvertedFile[] = [];
  const notes: string[] = [];
  const refusals: string[] = [];
  for (const entry of [...entries].sort((a, b) => a.name < b.name ? -1 : 1)) {
    const m = NAME.exec(entry.name);
    if (!m) {
      notes.push(
        `"${entry.name}" is not a golang-migrate migration ` +
          "(<version>_<title>.up.sql or .down.sql): not carried over",
      );
      continue;
    }
    const text = decodeSource(entry, refusals);
    if (text === null) continue;
    const name = `${m[1]}_${m[2] || "migration"}.${m[3].toLowerCase()}.sql`;
    const provenance = `-- imported from golang-migrate "${entry.name}"\n`;
    if (needsOwnTransactions(text, entry.name)) {
      notes.push(
        `"${entry.name}" runs its own transaction control: "-- transaction: false" added ` +
          "(statement by statement, as golang-migrate ran it)",
      );
      files.push({
        name,
        text: `${provenance}-- transaction: false\n\n${text}`,
        source: entry.name,
      });
    } else {
      files.push({ name, text: provenance + text, source: entry.name });
    }
  }
  return { tool: "golang-migrate", files, notes, refusals };
}
