/**
 * goose's SQL migrations to strata pairs. A goose file is
 * `<version>_<name>.sql` with `-- +goose Up` and an optional `-- +goose Down`
 * section (annotations are case-insensitive). `-- +goose NO TRANSACTION`
 * becomes `-- transaction: false` on both files; `StatementBegin` /
 * `StatementEnd` lines are dropped, because strata's lexer finds statement
 * boundaries inside function bodies itself. Go migrations
 * (`<version>_<name>.go`) and `ENVSUB` cannot be converted: they are
 * refused with their versions. Pure.
 *
 * @module
 */

import type { FileEntry } from "./files.ts";
import {
  type Conversion,
  type ConvertedFile,
  eachSource,
  isOnlyComments,
  pairFiles,
} from "./import_common.ts";

const SQL_NAME = /^(\d+)_(.+)\.sql$/i;
const GO_NAME = /^(\d+)_(.+)\.go$/i;
const ANNOTATION = /^--\s\+goose\s+(.*?)\s*$/i;

interface Sections {
  readonly up: string;
  readonly down: string | null;
  readonly noTransaction: boolean;
  readonly statementMarkers: boolean;
}

/** Convert a goose migrations directory's entries. Never throws; see `Conversion`. */
export function convertGoose(entries: readonly FileEntry[]): Conversion {
  const files: ConvertedFile[] = [];
  const notes: string[] = [];
  const refusals: string[] = [];
  const walk = {
    name: SQL_NAME,
    what: "goose migration (<version>_<name>.sql)",
    notes,
    refusals,
    other: (entry: FileEntry) => refuseGo(entry, refusals),
  };
  eachSource(entries, walk, (entry, { text, match }) => {
    const sections = splitSections(text, entry.name, refusals);
    if (!sections) return;
    files.push(...convertSections(entry.name, `${match[1]}_${match[2]}`, sections, notes));
  });
  return { tool: "goose", files, notes, refusals };
}

/** True, with a refusal naming its version, for a Go migration. */
function refuseGo(entry: FileEntry, refusals: string[]): boolean {
  const go = GO_NAME.exec(entry.name);
  if (!go) return false;
  refusals.push(
    `version ${go[1]}: "${entry.name}" is a Go migration, which strata cannot run ` +
      "(rewrite it as a goose SQL file, or as strata files by hand)",
  );
  return true;
}

function convertSections(
  source: string,
  base: string,
  s: Sections,
  notes: string[],
): ConvertedFile[] {
  const header = [["transaction", s.noTransaction ? "false" : undefined]] as const;
  if (s.statementMarkers) {
    notes.push(`"${source}": StatementBegin/StatementEnd lines dropped (strata splits statements)`);
  }
  if (s.down === null) {
    notes.push(`"${source}" has no "-- +goose Down" section: its down file is an explicit no-op`);
  }
  return pairFiles(base, {
    provenance: `imported from goose "${source}"`,
    source,
    up: { header, body: s.up },
    down: { header, body: s.down ?? "-- goose had no Down section here: nothing to undo" },
  });
}

/** The Up and Down sections of a goose file, or null with a refusal added. */
function splitSections(text: string, file: string, refusals: string[]): Sections | null {
  const out = { up: [] as string[], down: null as string[] | null };
  let section: "before" | "up" | "down" = "before";
  let noTransaction = false;
  let statementMarkers = false;
  const before: string[] = [];
  for (const line of text.split("\n")) {
    const a = ANNOTATION.exec(line);
    const command = a?.[1].toUpperCase().replace(/\s+/g, " ");
    if (command === undefined) {
      (section === "before" ? before : section === "up" ? out.up : out.down!).push(line);
    } else if (command === "UP" && section === "before") section = "up";
    else if (command === "DOWN" && section === "up") [section, out.down] = ["down", []];
    else if (command === "NO TRANSACTION") noTransaction = true;
    else if (command === "STATEMENTBEGIN" || command === "STATEMENTEND") statementMarkers = true;
    else if (command === "ENVSUB OFF") continue;
    else {
      refusals.push(
        `"${file}": the annotation "${line.trim()}" cannot be converted` +
          (command.startsWith("ENVSUB")
            ? " (strata does not substitute environment variables)"
            : ""),
      );
      return null;
    }
  }
  if (section === "before") {
    refusals.push(`"${file}": no "-- +goose Up" annotation`);
    return null;
  }
  if (!isOnlyComments(before.join("\n"))) {
    refusals.push(`"${file}": SQL before "-- +goose Up"`);
    return null;
  }
  return {
    up: out.up.join("\n"),
    down: out.down === null ? null : out.down.join("\n"),
    noTransaction,
    statementMarkers,
  };
}
