/**
 * strata's database session: session settings, the read-only preflight, and
 * the advisory lock that makes parallel deploys queue instead of racing.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { quoteTable } from "../core/quote.ts";
import {
  LOCK_HOLDERS,
  PREPARE_SESSION,
  RESTORE_SESSION,
  restoreSessionFor,
  TRY_LOCK,
  UNLOCK,
} from "../core/session_sql.ts";
import type { Db, TableName } from "../core/types.ts";

/** The prepare query's row; its `s1`… columns are strata's settings as applied. */
interface Preflight extends Record<string, unknown> {
  version: number;
  in_recovery: boolean;
  default_ro: string;
  tx_ro: string;
}

/** What `prepareSession` learnt of each session's server. */
const prepared = new WeakMap<Db, { version: number; restore: string }>();

/**
 * The text that puts `db`'s session back as strata prepared it after each
 * migration file: the form for its server when `prepareSession` ran on it,
 * else the portable one.
 */
export function sessionRestore(db: Db): string {
  return prepared.get(db)?.restore ?? RESTORE_SESSION;
}

/** The major version of the server behind a prepared session (e.g. 15). */
export function serverMajor(db: Db): number | undefined {
  const num = prepared.get(db)?.version;
  return num === undefined ? undefined : Math.floor(num / 10000);
}

/**
 * Apply strata's session settings (idle timeouts off; on PostgreSQL 14+ a
 * client connection check so a killed strata frees its lock within seconds)
 * and, with `writable`, refuse a read-only server with `READ_ONLY`. This is
 * the first query of a session, so connection errors surface here.
 */
export async function prepareSession(db: Db, options: { writable: boolean }): Promise<number> {
  const [p] = await db.query<Preflight>(PREPARE_SESSION);
  prepared.set(db, { version: p.version, restore: restoreSessionFor(p) });

  if (options.writable && (p.in_recovery || p.default_ro === "on" || p.tx_ro === "on")) {
    const why = p.in_recovery
      ? "it is a hot standby (in recovery)"
      : "default_transaction_read_only is on";
    throw new StrataError("READ_ONLY", `Cannot migrate: the server is read-only: ${why}`, {
      hint: "Point --database-url at the primary server; nothing was changed",
    });
  }
  return p.version;
}

/** The advisory lock key of a version table: 64 bits of SHA-256 of its quoted name. */
export async function lockKey(table: TableName): Promise<bigint> {
  const data = new TextEncoder().encode(`strata:${quoteTable(table)}`);
  const digest = new DataView(await crypto.subtle.digest("SHA-256", data));
  return digest.getBigInt64(0);
}

/**
 * Take the session advisory lock for `table`, polling `pg_try_advisory_lock`
 * in autocommit (never blocking in `pg_advisory_lock`, whose open snapshot
 * would deadlock a CREATE INDEX CONCURRENTLY run by the holder). Throws
 * `LOCK_TIMEOUT` naming the holder after `waitMs`.
 */
export async function acquireLock(
  db: Db,
  table: TableName,
  options: {
    waitMs: number;
    onWait?: (message: string) => void;
    sleep?: (ms: number) => Promise<void>;
    stopSignal?: () => "SIGINT" | "SIGTERM" | null;
  },
): Promise<bigint> {
  const key = await lockKey(table);
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const started = Date.now();
  let delay = 50;
  let told = false;
  while (true) {
    const [row] = await db.query<{ ok: boolean }>(TRY_LOCK, [String(key)]);
    if (row.ok) return key;
    const signal = options.stopSignal?.();
    if (signal) {
      throw new StrataError(
        signal === "SIGINT" ? "INTERRUPTED_BY_SIGINT" : "INTERRUPTED_BY_SIGTERM",
        `Stopped by ${signal} while waiting for the migration lock: nothing was changed`,
      );
    }
    const waited = Date.now() - started;
    if (waited >= options.waitMs) throw await lockTimeout(db, table, key, waited);
    if (!told) {
      options.onWait?.(
        `Waiting for the migration lock on ${table.schema}.${table.name} ` +
          `(another strata is running; up to ${Math.round(options.waitMs / 1000)} s)`,
      );
      told = true;
    }
    await sleep(Math.min(delay, options.waitMs - waited));
    delay = Math.min(delay * 2, 500);
  }
}

interface Holder {
  pid: number;
  application_name: string | null;
  client_addr: string | null;
  backend_start: Date | null;
  state: string | null;
}

async function lockTimeout(
  db: Db,
  table: TableName,
  key: bigint,
  waited: number,
): Promise<StrataError> {
  const hi = (key >> 32n) & 0xffffffffn;
  const lo = key & 0xffffffffn;
  const holders = await db.query<Holder>(LOCK_HOLDERS, [String(hi), String(lo)]);

  const details = holders.map((h) =>
    `held by pid ${h.pid}, application_name "${h.application_name ?? ""}", client ` +
    `${h.client_addr ?? "local socket"}, connected since ${h.backend_start?.toISOString() ?? "?"}` +
    `, state ${h.state ?? "?"}`
  );
  return new StrataError(
    "LOCK_TIMEOUT",
    `Cannot take the migration lock on ${table.schema}.${table.name}: still held after ` +
      `${(waited / 1000).toFixed(1)} s`,
    {
      details: details.length ? details : ["the holder could not be seen (it may lack privileges)"],
      hint: "Another deploy is migrating this database. Wait for it, raise --lock-wait, or end " +
        "that session (SELECT pg_terminate_backend(pid)) if it is stuck; nothing was changed",
    },
  );
}

/**
 * Release the lock taken by `acquireLock` (best effort; closing the session
 * also frees it). Tried twice: a cancel request sent for a signal can land
 * late, on the unlock itself.
 */
export async function releaseLock(db: Db, key: bigint): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await db.query(UNLOCK, [String(key)]);
      return;
    } catch {
      // Retried once; after that the session's end releases the lock.
    }
  }
}
