/**
 * Human output: one aligned line per migration with its duration, summaries,
 * and the colour policy. Pure: the TTY and NO_COLOR facts are passed in.
 *
 * @module
 */

import type { Step } from "./types.ts";

/** Whether to colour: only on a TTY, never when NO_COLOR is set (to anything). */
export function useColor(options: { isTty: boolean; noColor: string | undefined }): boolean {
  return options.isTty && options.noColor === undefined;
}

/** A duration for people: `12 ms`, `1.24 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Paint `text` green/red/dim when `color` is on. */
export function paint(
  text: string,
  style: "green" | "red" | "dim" | "bold",
  color: boolean,
): string {
  if (!color) return text;
  const codes = { green: 32, red: 31, dim: 2, bold: 1 } as const;
  return `\x1b[${codes[style]}m${text}\x1b[0m`;
}

/**
 * One line for a finished step: direction, version, message, duration (or
 * "in the transaction" when it ran in one batch with the others), aligned to
 * `width` (the longest `version  message` of the plan).
 */
export function formatStepLine(
  step: Step,
  ms: number | null,
  options: { width: number; color: boolean },
): string {
  const m = step.migration;
  const label = `${m.versionText}  ${m.message}`;
  const arrow = step.kind === "up" ? "up  " : "down";
  const dots = " " + ".".repeat(Math.max(2, options.width - label.length + 2)) + " ";
  return `${paint(arrow, step.kind === "up" ? "green" : "bold", options.color)}  ${label}` +
    `${paint(dots, "dim", options.color)}${
      ms === null ? "in the transaction" : formatDuration(ms)
    }`;
}

/** The width to align step lines to. */
export function stepLabelWidth(steps: readonly Step[]): number {
  return Math.max(
    0,
    ...steps.map((s) => s.migration.versionText.length + 2 + s.migration.message.length),
  );
}

/** A progress line for stderr on a terminal: carriage return, counter, version. */
export function formatProgress(index: number, total: number, version: string): string {
  const done = index + 1 === total;
  return `\r[${index + 1}/${total}] ${version}` + (done ? "\n" : "\x1b[K");
}
