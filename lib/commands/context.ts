/**
 * What every command receives from the CLI: output and environment (`Io`),
 * and the settings resolved once from flags and environment (`Config`);
 * and `tableContext`, the version table's settings as the store and the
 * runner take them.
 *
 * @module
 */

import type { Config } from "../core/config.ts";
import type { FileEntry } from "../core/files.ts";
import type { Db } from "../core/types.ts";
import { STRATA_VERSION } from "../core/version.ts";
import type { TableContext } from "../core/version_table.ts";

/** Output and environment, as `cli.ts` hands them to commands. */
export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTty: boolean;
  readonly stderrIsTty?: boolean;
  /** Rows of the terminal, when known. */
  readonly rows?: number;
  readTextFile(path: string): Promise<string>;
}

/** Everything a command needs besides its own options: settings, output, secrets. */
export interface CommandContext extends Config {
  readonly io: Io;
  /** Register a value that must never be printed (a password). */
  addSecret(secret: string): void;
  /** Migration files given in memory (the library API), read instead of `dir`. */
  readonly files?: readonly FileEntry[];
  /**
   * Open the session on a database the caller owns (the library API), instead
   * of connecting to the configured one; closing that `Db` leaves it open.
   */
  readonly connect?: () => Promise<Db>;
}

/** The version table of `ctx` and this strata's version, for the store, the runner and scripts. */
export function tableContext(ctx: Pick<Config, "table">): TableContext {
  return { table: ctx.table, strataVersion: STRATA_VERSION };
}
