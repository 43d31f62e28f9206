/**
 * `Db` over PGlite, PostgreSQL compiled to WebAssembly, for `pglite:memory`
 * and `pglite:PATH`. Loaded only for such URLs. It is a single-connection
 * database inside this process, so the advisory lock always succeeds: it is
 * kept for uniformity, not for protection (see the README).
 *
 * @module
 */

import { PGlite } from "@electric-sql/pglite";
import type { EmbeddedOptions } from "../core/config.ts";
import { StrataError } from "../core/errors.ts";
import type { Db } from "../core/types.ts";

/** Open (creating when needed) the embedded database. Throws `CONNECTION_FAILED`. */
export async function createPgliteDb(
  target: EmbeddedOptions,
  options: { onNotice?: (message: string) => void } = {},
): Promise<Db> {
  let pg: PGlite;
  try {
    pg = target.dataDir === null ? new PGlite() : new PGlite(target.dataDir);
    await pg.waitReady;
  } catch (err) {
    throw new StrataError(
      "CONNECTION_FAILED",
      `Cannot open ${target.display}: ${(err as Error).message}`,
      {
        hint: "Check that the directory is writable and holds a PGlite data directory (or is new)",
        cause: err,
      },
    );
  }
  const notice = options.onNotice;
  return {
    async query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      try {
        const r = await pg.query<T>(
          text,
          [...params],
          notice ? { onNotice: (n) => notice(`${n.severity}: ${n.message}`) } : {},
        );
        return r.rows;
      } catch (err) {
        throw asServerError(err);
      }
    },
    async runScript(text: string): Promise<void> {
      try {
        await pg.exec(
          text,
          notice ? { onNotice: (n) => notice(`${n.severity}: ${n.message}`) } : {},
        );
      } catch (err) {
        throw asServerError(err);
      }
    },
    async cancel(): Promise<void> {
      // A statement inside this process cannot be cancelled from outside it; the
      // runner stops before the next statement instead.
    },
    async close(): Promise<void> {
      try {
        await pg.close();
      } catch {
        // Closing is best effort: the process is ending either way.
      }
    },
  };
}

/**
 * PGlite's errors carry the server's fields (code, position, detail, hint);
 * give them the name the runner recognises as a server error.
 */
function asServerError(err: unknown): unknown {
  if (err instanceof Error && typeof (err as { code?: unknown }).code === "string") {
    const e = err as Error & Record<string, unknown>;
    return Object.assign(new Error(e.message), {
      name: "PostgresError",
      code: e.code,
      position: e.position,
      detail: e.detail,
      hint: e.hint,
      where: e.where,
    });
  }
  return err;
}
