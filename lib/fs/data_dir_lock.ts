/**
 * One process per embedded data directory: an exclusive OS lock (flock) on a
 * file beside the directory, naming its holder. The kernel drops the lock
 * when the holder dies, so a lock left by a killed process is taken over at
 * once; the holder's pid, host and start time are only for the message.
 * (flock is not reliable on network file systems; keep data directories on
 * local disks.)
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";

/** A held lock; `release` frees it (closing the process does too). */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

interface Holder {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** The lock file of a data directory: `<dir>.strata-lock`, beside it. */
export function lockPathFor(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "")}.strata-lock`;
}

function hostName(): string {
  try {
    return Deno.readTextFileSync("/etc/hostname").trim() || "unknown host";
  } catch {
    return Deno.env.get("HOSTNAME") ?? "unknown host";
  }
}

function readHolder(file: Deno.FsFile): Holder | null {
  try {
    file.seekSync(0, Deno.SeekMode.Start);
    const buf = new Uint8Array(512);
    const n = file.readSync(buf) ?? 0;
    return JSON.parse(new TextDecoder().decode(buf.subarray(0, n))) as Holder;
  } catch {
    return null;
  }
}

function writeHolder(file: Deno.FsFile): void {
  const holder: Holder = { pid: Deno.pid, host: hostName(), since: new Date().toISOString() };
  file.truncateSync(0);
  file.seekSync(0, Deno.SeekMode.Start);
  const data = new TextEncoder().encode(JSON.stringify(holder) + "\n");
  let off = 0;
  while (off < data.length) off += file.writeSync(data.subarray(off));
}

/**
 * Take the lock of `dataDir`, polling for up to `waitMs` while another
 * process holds it. Throws `LOCK_TIMEOUT` naming the holder, or
 * `CONNECTION_FAILED` when the lock file cannot be made.
 */
export async function lockDataDir(
  dataDir: string,
  options: {
    waitMs: number;
    display: string;
    onWait?: (message: string) => void;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<DataDirLock> {
  const path = lockPathFor(dataDir);
  const file = openLockFile(path, options.display);
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const started = Date.now();
  let told = false;
  while (!(await file.tryLock(true))) {
    const waited = Date.now() - started;
    if (waited >= options.waitMs) {
      const holder = readHolder(file);
      file.close();
      throw heldError(options.display, holder, waited);
    }
    if (!told) {
      options.onWait?.(`Waiting for ${options.display}: another strata process has it open`);
      told = true;
    }
    await sleep(Math.min(100, options.waitMs - waited));
  }
  writeHolder(file);
  return {
    path,
    release() {
      try {
        file.truncateSync(0);
        file.unlockSync();
        file.close();
      } catch {
        // Closing the process releases it too.
      }
    },
  };
}

function openLockFile(path: string, display: string): Deno.FsFile {
  try {
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (dir) Deno.mkdirSync(dir, { recursive: true });
    return Deno.openSync(path, { read: true, write: true, create: true });
  } catch (err) {
    throw new StrataError(
      "CONNECTION_FAILED",
      `Cannot open ${display}: cannot create its lock file "${path}": ${(err as Error).message}`,
      { hint: "Check that the directory is writable", cause: err },
    );
  }
}

function heldError(display: string, holder: Holder | null, waited: number): StrataError {
  const who = holder
    ? `pid ${holder.pid} on ${holder.host}, since ${holder.since}`
    : "a process that did not say who it is";
  return new StrataError(
    "LOCK_TIMEOUT",
    `Cannot open ${display}: another strata process has it open (${who}); waited ` +
      `${(waited / 1000).toFixed(1)} s`,
    {
      hint: "An embedded database serves one process at a time. Wait for that process, raise " +
        "--lock-wait, or stop it; nothing was changed",
    },
  );
}
