/**
 * dbmate's migrations to strata pairs. A dbmate file is
 * `<version>_<name>.sql` holding a `-- migrate:up` block and an optional
 * `-- migrate:down` block (dbmate requires both); a block's `transaction:false` option becomes
 * `-- transaction: false`. Versions and names are kept. Pure.
 *
 * Invariant: each dbmate file becomes one up file and one down file (an
 * empty down block, which dbmate runs as a no-op, becomes an explicit no-op
 * down), or a refusal naming it.
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

const NAME = /^(\d+)(?:_(.*))?\.sql$/i;
const MARKER = /^--\s*migrate:(up|down)(?:\s+(.*))?$/;

/** One block of a dbmate file. */
interface Block {
  readonly body: string;
  readonly options: ReadonlyMap<string, string>;
}

/** Convert a dbmate migrations directory's entries. Never throws; see `Conversion`. */
export function convertDbmate(entries: readonly FileEntry[]): Conversion {
  const files: ConvertedFile[] = [];
  const notes: string[] = [];
  const refusals: string[] = [];
  const walk = { name: NAME, what: "dbmate migration (<version>_<name>.sql)", notes, refusals };
  eachSource(entries, walk, (entry, { text, match }) => {
    const blocks = splitBlocks(text, entry.name, refusals);
    if (!blocks) return;
    const base = `${match[1]}_${match[2] || "migration"}`;
    files.push(...convertBlocks(entry.name, base, blocks, notes));
  });
  return { tool: "dbmate", files, notes, refusals };
}

function convertBlocks(
  source: string,
  base: string,
  blocks: { up: Block; down: Block },
  notes: string[],
): ConvertedFile[] {
  const side = (b: Block) => ({
    header: [[
      "transaction",
      b.options.get("transaction") === "false" ? "false" : undefined,
    ]] as const,
    body: b.body,
  });
  for (const b of [blocks.up, blocks.down]) {
    for (const [k, v] of b.options) {
      if (k !== "transaction") notes.push(`"${source}": option "${k}:${v}" not carried over`);
    }
  }
  if (isOnlyComments(blocks.down.body)) {
    notes.push(`"${source}" has an empty "-- migrate:down" block: its down file is a no-op`);
  }
  return pairFiles(base, {
    provenance: `imported from dbmate "${source}"`,
    source,
    up: side(blocks.up),
    down: side(blocks.down),
  });
}

/** The up and down blocks of a dbmate file, or null with a refusal added. */
function splitBlocks(
  text: string,
  file: string,
  refusals: string[],
): { up: Block; down: Block } | null {
  const lines = text.split("\n");
  const markers = lines.flatMap((line, i) => {
    const m = MARKER.exec(line.trimEnd());
    return m ? [{ kind: m[1], line: i, options: parseOptions(m[2] ?? "") }] : [];
  });
  const ups = markers.filter((k) => k.kind === "up");
  const downs = markers.filter((k) => k.kind === "down");
  const refuse = (why: string) => {
    refusals.push(`"${file}": ${why}`);
    return null;
  };
  if (ups.length !== 1) return refuse(`expected one "-- migrate:up" line, found ${ups.length}`);
  if (downs.length !== 1) {
    return refuse(`expected one "-- migrate:down" line, found ${downs.length} (dbmate needs one)`);
  }
  const up = ups[0];
  const down = downs[0];
  if (down.line < up.line) return refuse(`"-- migrate:down" comes before "-- migrate:up"`);
  if (!isOnlyComments(lines.slice(0, up.line).join("\n"))) {
    return refuse(`SQL before "-- migrate:up" (dbmate refuses it too)`);
  }
  return {
    up: { body: lines.slice(up.line + 1, down.line).join("\n"), options: up.options },
    down: { body: lines.slice(down.line + 1).join("\n"), options: down.options },
  };
}

function parseOptions(text: string): Map<string, string> {
  const options = new Map<string, string>();
  for (const word of text.trim().split(/\s+/).filter((w) => w !== "")) {
    const at = word.indexOf(":");
    options.set(at === -1 ? word : word.slice(0, at), at === -1 ? "" : word.slice(at + 1));
  }
  return options;
}
