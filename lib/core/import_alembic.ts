/**
 * Alembic's revisions to strata pairs, in two pure halves around the one
 * thing only Alembic can do (render a revision's SQL, done by
 * `lib/import/alembic.ts` with `alembic upgrade A:B --sql`):
 * - `orderRevisions`: read `revision` / `down_revision` from the revision
 *   files and walk the graph from its base. strata's history is a line, so a
 *   merge revision, a second base, or a revision with two children (a
 *   branch) is refused, naming the revisions.
 * - `convertAlembic`: number the revisions 0001, 0002, … in that order and
 *   turn Alembic's offline SQL into files: its `alembic_version`
 *   bookkeeping is removed (strata records its own), the BEGIN/COMMIT
 *   around each revision is dropped (strata runs the file in its own
 *   transaction), and each file keeps `-- alembic-revision: <id>`. SQL that
 *   commits in the middle (an `autocommit_block`) is kept as written, with
 *   `-- transaction: false`.
 *
 * @module
 */

import type { FileEntry } from "./files.ts";
import { slugify } from "./new_version.ts";
import {
  type Conversion,
  type ConvertedFile,
  decodeSource,
  needsOwnTransactions,
  padVersion,
  pairFiles,
} from "./import_common.ts";
import { isWrapper } from "./run_mode.ts";
import { splitStatements, type Statement } from "./sql_lexer.ts";

/** One revision file. */
export interface AlembicRevision {
  readonly revision: string;
  /** The revision it follows; null for a base. A merge is refused when parsed. */
  readonly downRevision: string | null;
  readonly message: string;
  readonly fileName: string;
}

/** Where `alembic.ini` says the revision files are (relative to the ini's directory). */
export interface AlembicLayout {
  readonly scriptLocation: string;
  readonly versionLocations: readonly string[];
}

const REVISION = /^revision\s*(?::[^=\n]*)?=\s*(['"])([^'"]+)\1/m;
const DOWN = /^down_revision\s*(?::[^=\n]*)?=\s*(None|(['"])([^'"]*)\2|[([][^)\]]*[)\]])/m;

/** Read `[alembic] script_location` and `version_locations`; `here` replaces `%(here)s`. */
export function parseAlembicIni(text: string): AlembicLayout | null {
  const values = new Map<string, string>();
  let inAlembic = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("[")) inAlembic = line === "[alembic]";
    const m = /^([A-Za-z_]+)\s*[=:]\s*(.*)$/.exec(line);
    if (inAlembic && m) values.set(m[1], m[2].replaceAll("%(here)s", "."));
  }
  const scriptLocation = values.get("script_location");
  if (!scriptLocation) return null;
  const list = values.get("version_locations");
  const sep = ({ os: ":", space: " ", ":": ":", ";": ";", ",": "," } as Record<string, string>)[
    values.get("version_path_separator") ?? ""
  ];
  const versionLocations = list === undefined
    ? [`${scriptLocation}/versions`]
    : list.split(sep ?? /[\s,]+/).map((s) => s.trim()).filter((s) => s !== "");
  return { scriptLocation, versionLocations };
}

/** Parse one revision file; a refusal is added for a merge or an unreadable file. */
export function parseRevisionFile(entry: FileEntry, refusals: string[]): AlembicRevision | null {
  const text = decodeSource(entry, refusals);
  if (text === null) return null;
  const rev = REVISION.exec(text);
  const down = DOWN.exec(text);
  if (!rev || !down) {
    refusals.push(`"${entry.name}": no "revision = ..." and "down_revision = ..." lines`);
    return null;
  }
  if (/^[([]/.test(down[1])) {
    const parents = [...down[1].matchAll(/['"]([^'"]+)['"]/g)].map((p) => p[1]);
    if (parents.length > 1) {
      refusals.push(
        `revision ${rev[2]} ("${entry.name}") merges ${parents.join(" and ")}: ` +
          "the history is not a line",
      );
      return null;
    }
  }
  const downRevision = down[1] === "None"
    ? null
    : down[3] ?? [...down[1].matchAll(/['"]([^'"]+)['"]/g)][0]?.[1] ?? null;
  const doc = /^\s*(?:[rRuU])?("""|''')\s*(.*)$/m.exec(text);
  const message = (doc?.[2] ?? "").replace(/("""|''').*$/, "").trim();
  return { revision: rev[2], downRevision, message, fileName: entry.name };
}

/**
 * The revisions in order from base to head, or refusals naming each branch,
 * merge, second base, unknown parent or cycle. Empty input gives `[]`.
 */
export function orderRevisions(
  revisions: readonly AlembicRevision[],
): { ordered: AlembicRevision[]; refusals: string[] } {
  const refusals: string[] = [];
  const byId = new Map<string, AlembicRevision>();
  const children = new Map<string | null, AlembicRevision[]>();
  for (const r of revisions) {
    if (byId.has(r.revision)) {
      refusals.push(
        `revision ${r.revision} is defined twice ("${byId.get(r.revision)!.fileName}" ` +
          `and "${r.fileName}")`,
      );
    }
    byId.set(r.revision, r);
    children.set(r.downRevision, [...(children.get(r.downRevision) ?? []), r]);
  }
  for (const r of revisions) {
    if (r.downRevision !== null && !revisions.some((p) => p.revision === r.downRevision)) {
      refusals.push(
        `revision ${r.revision} ("${r.fileName}") follows ${r.downRevision}, ` +
          "which no file defines",
      );
    }
  }
  for (const [parent, kids] of children) {
    if (kids.length < 2) continue;
    const ids = kids.map((k) => k.revision).join(" and ");
    refusals.push(
      parent === null
        ? `the history has ${kids.length} bases: ${ids}`
        : `the history branches at revision ${parent} into ${ids}`,
    );
  }
  if (refusals.length > 0) return { ordered: [], refusals };
  const ordered: AlembicRevision[] = [];
  for (let next = children.get(null)?.[0]; next; next = children.get(next.revision)?.[0]) {
    ordered.push(next);
  }
  if (ordered.length !== revisions.length) {
    refusals.push("some revisions are not reachable from the base (a cycle)");
  }
  return { ordered, refusals };
}

/** Alembic's offline SQL for one revision, both ways. */
export interface RevisionSql {
  readonly up: string;
  readonly down: string;
}

/**
 * Number `ordered` and build each pair from its SQL. `versionTable` is the
 * name of Alembic's table (default `alembic_version`; a schema before it is
 * ignored), whose statements are removed. Never throws; see `Conversion`.
 */
export function convertAlembic(
  ordered: readonly AlembicRevision[],
  sql: ReadonlyMap<string, RevisionSql>,
  options: { versionTable?: string } = {},
): Conversion {
  const table = unquote((options.versionTable ?? "alembic_version").replace(/^.*\./, ""));
  const width = Math.max(4, String(ordered.length).length);
  const notes: string[] = [];
  const files: ConvertedFile[] = [];
  ordered.forEach((r, i) => {
    const version = padVersion(BigInt(i + 1), width);
    const slug = slugify(r.fileName.replace(/\.py$/, "").replace(`${r.revision}_`, "")) ||
      slugify(r.message) || "revision";
    const both = sql.get(r.revision)!;
    const header = (body: SqlBody, message: string) =>
      [
        ["message", message],
        ["alembic-revision", r.revision],
        ["transaction", body.ownTransactions ? "false" : undefined],
      ] as const;
    const up = stripBookkeeping(both.up, { table, file: r.fileName });
    const down = stripBookkeeping(both.down, { table, file: r.fileName });
    const message = r.message || slug.replaceAll("_", " ");
    files.push(...pairFiles(`${version}_${slug}`, {
      provenance: `imported from Alembic revision ${r.revision} ("${r.fileName}")`,
      source: r.fileName,
      up: { header: header(up, message), body: up.text },
      down: { header: header(down, `revert ${message}`), body: down.text },
    }));
    if (up.ownTransactions || down.ownTransactions) {
      notes.push(
        `revision ${r.revision} commits in the middle: kept as written, ` +
          '"-- transaction: false"',
      );
    }
  });
  return { tool: "alembic", files, notes, refusals: [] };
}

interface SqlBody {
  readonly text: string;
  readonly ownTransactions: boolean;
}

/**
 * Remove the version-table statements and, when it wraps the rest, the
 * BEGIN/COMMIT pair. The SQL left needs `-- transaction: false` when it
 * still holds transaction control (an `autocommit_block`).
 */
function stripBookkeeping(sql: string, options: { table: string; file: string }): SqlBody {
  const statements = splitStatements(sql).filter((s) => !s.isEmpty);
  const drop = new Set<Statement>(statements.filter((s) => isOnTable(s, options.table)));
  const control = statements.filter((s) => s.kind === "transaction-control");
  if (isWrapper(statements, control)) control.forEach((s) => drop.add(s));
  let text = "";
  let at = 0;
  for (const s of statements) {
    if (!drop.has(s)) continue;
    text += sql.slice(at, s.sqlStart);
    at = s.end;
  }
  text = (text + sql.slice(at)).replace(/\n{3,}/g, "\n\n");
  return { text, ownTransactions: needsOwnTransactions(text, options.file) };
}

const IDENT = String.raw`"(?:[^"]|"")*"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*`;
/** Alembic's statements on its table, in `Statement.normalized` text; group 1 is the table. */
const BOOKKEEPING = new RegExp(
  String.raw`^(?:INSERT INTO|UPDATE|DELETE FROM|CREATE TABLE|DROP TABLE) ` +
    String.raw`(?:IF (?:NOT )?EXISTS )?(?:(?:${IDENT}) ?\. ?)?(${IDENT})(?=[ (;]|$)`,
  "i",
);

/**
 * True when `s` is one of Alembic's statements on its version table `table`
 * (unqualified; in `s` it may be schema-qualified): INSERT INTO, UPDATE,
 * DELETE FROM, CREATE TABLE, and DROP TABLE (written when a downgrade
 * reaches base). Names compare case-insensitively. A statement that only
 * mentions the table (a column of that name) is not one of them.
 */
function isOnTable(s: Statement, table: string): boolean {
  const name = BOOKKEEPING.exec(s.normalized)?.[1];
  return name !== undefined && unquote(name).toLowerCase() === table.toLowerCase();
}

function unquote(name: string): string {
  return name.startsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name;
}
