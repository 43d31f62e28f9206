/**
 * What `verify` finds and prints: the report (`VerifyReport`, which is also
 * the `--json` document and the library's result), printed as one line per
 * migration (ok, skip, FAIL with its differences or error), the final round
 * trip, and a summary.
 *
 * @module
 */

import { paint } from "../core/output.ts";
import type { CommandContext } from "./context.ts";

/** What verify found for one migration. */
export type VerifyStatus =
  | "ok"
  | "differs"
  | "down-failed"
  | "up-failed"
  | "reup-failed"
  | "irreversible"
  | "not-verified";

/** One migration's result. */
export interface VerifyEntry {
  readonly version: string;
  readonly name: string;
  readonly status: VerifyStatus;
  readonly differences: readonly string[];
  readonly error: string | null;
}

/** The closing `downgrade base` and `upgrade head`, when every step passed. */
export interface RoundTrip {
  readonly ok: boolean;
  readonly error: string | null;
  readonly stoppedAt: string | null;
}

/**
 * Everything a verify run found: the `verify --json` document as printed,
 * and what the library's `verify()` returns.
 */
export interface VerifyReport {
  /** The scratch database: `pglite:memory`, or the server (redacted) and the database made there. */
  readonly scratch: string;
  /** Every migration ok or irreversible, and the final round trip ok too. */
  readonly ok: boolean;
  readonly migrations: readonly VerifyEntry[];
  /** `downgrade base` (or to the last irreversible one) and `upgrade head`; null when not run. */
  readonly final: RoundTrip | null;
  /** How many times the scratch database was rebuilt to go on after a defect. */
  readonly restarts: number;
}

const DESCRIPTIONS: Readonly<Record<VerifyStatus, string>> = {
  "ok": "",
  "irreversible": ": irreversible (no down file), skipped",
  "differs": ": its down leaves the schema different from before its up",
  "down-failed": ": its down failed",
  "up-failed": ": its up failed; later migrations cannot be verified without it",
  "reup-failed": ": upgrading again after its down failed",
  "not-verified": ": not verified (an earlier up failed)",
};

function indent(text: string): string {
  return text.split("\n").map((l) => `        ${l}\n`).join("");
}

/** Print the report (the document itself under `--json`); returns the exit code (0 ok, 4 not). */
export function printVerifyReport(ctx: CommandContext, r: VerifyReport): number {
  if (ctx.json) {
    ctx.io.stdout(JSON.stringify(r) + "\n");
    return r.ok ? 0 : 4;
  }
  for (const x of r.migrations) {
    const mark = x.status === "ok"
      ? paint("ok  ", "green", ctx.color)
      : x.status === "irreversible" || x.status === "not-verified"
      ? "skip"
      : paint("FAIL", "red", ctx.color);
    ctx.io.stdout(`${mark}  ${x.version}  ${x.name}${DESCRIPTIONS[x.status]}\n`);
    for (const d of x.differences) ctx.io.stdout(`        - ${d}\n`);
    if (x.error) ctx.io.stdout(indent(x.error));
  }
  if (r.final) {
    const what = r.final.stoppedAt
      ? `downgrade to ${r.final.stoppedAt} (irreversible below) and upgrade head`
      : "downgrade base and upgrade head";
    ctx.io.stdout(`${r.final.ok ? "ok  " : "FAIL"}  ${what}\n`);
    if (r.final.error) ctx.io.stdout(indent(r.final.error));
  }
  ctx.io.stdout(summary(r) + "\n");
  return r.ok ? 0 : 4;
}

function summary(r: VerifyReport): string {
  const count = (pred: (s: VerifyStatus) => boolean) =>
    r.migrations.filter((x) => pred(x.status)).length;
  const failed = count((s) => s !== "ok" && s !== "irreversible" && s !== "not-verified");
  const skipped = count((s) => s === "irreversible");
  const unverified = count((s) => s === "not-verified");
  return `verify: ${r.migrations.length} migrations, ${count((s) => s === "ok")} ok, ` +
    `${failed} failed, ${skipped} skipped (irreversible)` +
    (unverified ? `, ${unverified} not verified` : "") + ` on ${r.scratch}`;
}
