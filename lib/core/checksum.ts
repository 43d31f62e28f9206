/**
 * Checksums of migration files, tagged with their algorithm so it can change:
 * `t1:sha256:` (the first strata: fixed header keys, set or not) and
 * `t2:sha256:` (only the execution-relevant keys that are set, so a key added
 * to strata later changes no existing checksum). Both hash the lexer's
 * normalised statements: comments dropped, white space outside literals
 * folded. Pure (Web Crypto's digest is deterministic).
 *
 * @module
 */

import { headerChecksumText } from "./header_keys.ts";
import { sha256Hex } from "./sha256.ts";
import type { AppliedRow, Migration, MigrationFile } from "./types.ts";

/** The algorithms strata can compute; new rows are written with the last. */
export type ChecksumAlgorithm = "t1" | "t2";

/** The tag new rows are written with. */
export const CURRENT_CHECKSUM: ChecksumAlgorithm = "t2";

function hashedText(file: MigrationFile, algorithm: ChecksumAlgorithm): string {
  const h = file.header;
  let text = algorithm === "t1"
    ? `transaction=${h.transaction ?? ""}\nlock-timeout=${h.lockTimeout ?? ""}\n` +
      `statement-timeout=${h.statementTimeout ?? ""}`
    : `${headerChecksumText(h)}sql:`;
  for (const s of file.statements) text += "\n" + s.normalized;
  return text;
}

/** The checksum of an up file with `algorithm` (default: the current one). */
export function checksumOf(
  file: MigrationFile,
  algorithm: ChecksumAlgorithm = CURRENT_CHECKSUM,
): string {
  return `${algorithm}:sha256:${sha256Hex(new TextEncoder().encode(hashedText(file, algorithm)))}`;
}

/** The algorithm of a recorded checksum, or undefined for a tag this strata does not know. */
export function checksumAlgorithm(recorded: string): ChecksumAlgorithm | undefined {
  const tag = recorded.slice(0, recorded.indexOf(":"));
  return tag === "t1" || tag === "t2" ? tag : undefined;
}

/**
 * Whether the file still has the checksum that was recorded: compared with
 * the algorithm the recorded value was made with. False for an unknown tag.
 */
export function checksumMatches(migration: Migration, recorded: string): boolean {
  const algorithm = checksumAlgorithm(recorded);
  if (algorithm === undefined) return false;
  // Only the recorded algorithm is computed: a t1 row does not pay for t2 too.
  const current = algorithm === CURRENT_CHECKSUM
    ? migration.checksum
    : checksumOf(migration.up, algorithm);
  return current === recorded;
}

/**
 * The versions of applied rows whose file was edited since (rows without a
 * file are left out). A file whose bytes are still those recorded
 * (`file_hash`) is unchanged without being lexed; any other is compared by
 * its checksum, so a cosmetic edit (line endings, comments) is not an edit.
 */
export function findEdited(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
): Set<bigint> {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  const edited = new Set<bigint>();
  for (const row of applied) {
    const m = byVersion.get(row.version);
    if (!m || (row.fileHash !== null && row.fileHash === m.fileHash)) continue;
    if (!checksumMatches(m, row.checksum)) edited.add(row.version);
  }
  return edited;
}

/**
 * Applied migrations whose file is unchanged (not in `edited`) but whose
 * recorded file hash is missing or differs: `renderFileHashes` records it.
 */
export function findStaleFileHashes(
  migrations: readonly Migration[],
  applied: readonly AppliedRow[],
  edited: ReadonlySet<bigint>,
): Migration[] {
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  return applied.flatMap((row) => {
    const m = byVersion.get(row.version);
    if (!m || row.state !== "applied" || edited.has(row.version)) return [];
    return row.fileHash === m.fileHash ? [] : [m];
  });
}

/** Texts smaller than this are hashed in JavaScript (no per-call cost); larger ones by Web Crypto. */
export const SMALL_FILE = 64 * 1024;

/** `sha256:<hex>` of a file's bytes, recorded beside the checksum to skip lexing unchanged files. */
export async function fileHashOf(bytes: Uint8Array): Promise<string> {
  if (bytes.length < SMALL_FILE) return `sha256:${sha256Hex(bytes)}`;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  return `sha256:${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
