/**
 * `Db` over PGlite, PostgreSQL compiled to WebAssembly, for `pglite:memory`
 * and `pglite:PATH`. Loaded only for such URLs. It is a single-connection
 * database inside this process, so the advisory lock always succeeds; what
 * keeps two processes apart is the data directory's lock file
 * (`fs/data_dir_lock.ts`), taken before the directory is opened.
 *
 * @module
 */

import type { PGlite } from "@electric-sql/pglite";
import type { EmbeddedOptions } from "../core/database_url.ts";
import { createDbServerError, parsePosition } from "../core/db_error.ts";
import { StrataError } from "../core/errors.ts";
import type { Db } from "../core/types.ts";
import { lockDataDir } from "../fs/data_dir_lock.ts";
import type { OpenOptions } from "./open.ts";
import { startPglite } from "./pglite_start.ts";
import { probeOpenBlock } from "./tx_status.ts";

/** int8 as text, as the server drivers return it (PGlite's own parser gives number or bigint). */
const PARSERS = { 20: (text: string) => text };

/**
 * Open (creating when needed) the embedded database, after taking its data
 * directory's lock. Throws `CONNECTION_FAILED`, or `LOCK_TIMEOUT` naming the
 * process that holds the directory.
 */
export async function createPgliteDb(
  target: EmbeddedOptions,
  options: OpenOptions = {},
): Promise<Db> {
  const lock = target.dataDir === null ? null : await lockDataDir(target.dataDir, {
    waitMs: options.lockWaitMs ?? 60_000,
    display: target.display,
    onWait: options.onWait,
  });
  let pg: PGlite;
  try {
    pg = await startPglite({
      dataDir: target.dataDir,
      cacheDir: options.cacheDir ?? null,
      parsers: PARSERS,
    });
  } catch (err) {
    lock?.release();
    throw openError(target, err);
  }
  const db = pgliteDb(pg, {
    display: target.display,
    onNotice: options.onNotice,
    close: async () => {
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  });
  INSTANCES.set(db, pg);
  return db;
}

function openError(target: EmbeddedOptions, cause: unknown): StrataError {
  return new StrataError(
    "CONNECTION_FAILED",
    `Cannot open ${target.display}: ${(cause as Error).message}`,
    {
      hint: "Check that the directory is writable and holds a PGlite data directory (or is new)",
      cause,
    },
  );
}

const INSTANCES = new WeakMap<Db, PGlite>();

/** The PGlite instance behind a `Db` that `createPgliteDb` opened (for pg_dump), if any. */
export function embeddedInstance(db: Db): PGlite | undefined {
  return INSTANCES.get(db);
}

/** The PGlite calls strata makes: a `PGlite` instance has them. */
export type PgliteLike = Pick<PGlite, "query" | "exec" | "isInTransaction">;

/**
 * A `Db` over a running PGlite instance: one strata opened, or one an
 * application owns (the library API), whose `close` is then the caller's to
 * give (default: leave the instance open). int8 values come back as text,
 * as from the server drivers, whatever parsers the instance was made with.
 */
export function pgliteDb(
  pg: PgliteLike,
  options: {
    readonly display: string;
    readonly onNotice?: (message: string) => void;
    readonly close?: () => Promise<void>;
  },
): Db {
  const state = { display: options.display, closed: false };
  const withNotice = noticeOption(options.onNotice);
  const db: Db = {
    query<T>(text: string, params: readonly unknown[] = []): Promise<T[]> {
      return callPglite(state, async () => {
        const r = await pg.query<T>(text, [...params], { ...withNotice, parsers: PARSERS });
        return r.rows;
      });
    },
    async runScript(text: string): Promise<void> {
      await callPglite(state, () => pg.exec(text, withNotice));
    },
    async transactionStatus() {
      if (state.closed) throw closedError(state);
      // PGlite's clock ticks too coarsely for the timestamp probe (a BEGIN and the probe
      // often share a tick), but it knows whether a block is open.
      if (!pg.isInTransaction()) return "idle";
      return await probeOpenBlock((text) => db.query(text));
    },
    async cancel(): Promise<void> {
      // A statement inside this process cannot be cancelled from outside it; the
      // runner stops before the next statement instead.
    },
    close: () => closeOnce(state, options.close),
  };
  return db;
}

/** Mark the `Db` closed and run its `close` the first time only; never throws. */
async function closeOnce(
  state: { closed: boolean },
  close: (() => Promise<void>) | undefined,
): Promise<void> {
  if (state.closed) return;
  state.closed = true;
  try {
    await close?.();
  } catch {
    // Closing is best effort: the process is ending either way.
  }
}

/** PGlite's notice option for `onNotice` (as `"<severity>: <message>"`), or none. */
function noticeOption(
  onNotice: ((message: string) => void) | undefined,
): { onNotice?: (n: { severity?: string; message?: string }) => void } {
  if (!onNotice) return {};
  return { onNotice: (n) => onNotice(`${n.severity}: ${n.message}`) };
}

/** Run one PGlite call unless the `Db` is closed; its server errors become `DbServerError`s. */
async function callPglite<T>(
  state: { readonly display: string; readonly closed: boolean },
  work: () => Promise<T>,
): Promise<T> {
  if (state.closed) throw closedError(state);
  try {
    return await work();
  } catch (err) {
    throw asServerError(err);
  }
}

/** Every call after `close()` throws this. */
function closedError(target: { readonly display: string }): StrataError {
  return new StrataError(
    "CONNECTION_FAILED",
    `Cannot continue on ${target.display}: the database was closed`,
    { hint: "close() ended this session; open a new one" },
  );
}

/**
 * PGlite's server errors carry the ErrorResponse fields as properties: a
 * five-character SQLSTATE as `code` and a `severity`. A file-system error
 * (`EACCES`, `EPERM`) has a `code` but no severity, and is left as it is.
 */
function asServerError(err: unknown): unknown {
  const e = err as { code?: unknown; severity?: unknown } | null;
  if (
    err instanceof Error && typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code) &&
    typeof e.severity === "string"
  ) {
    const e = err as Error & Record<string, string | undefined>;
    return createDbServerError({
      sqlstate: e.code!,
      message: e.message,
      detail: e.detail,
      hint: e.hint,
      position: parsePosition(e.position),
      where: e.where,
      severity: e.severity,
    }, { cause: err });
  }
  return err;
}
