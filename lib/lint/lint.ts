/**
 * Lint a walk of files (see `core/lint_scope.ts`) on PostgreSQL's parser:
 * parse each file, walk the statements with one state, and keep the lint of
 * the files to report on.
 *
 * @module
 */

import { type FileLint, lintFile } from "../core/lint_check.ts";
import { createLintState, startRun } from "../core/lint_context.ts";
import type { LintStep } from "../core/lint_scope.ts";
import { stepFile } from "../core/script.ts";
import { loadParser, parseFile } from "./parse.ts";

/**
 * The lint of every step marked `lint`, in order. Steps walked for facts
 * only are parsed and walked too, but their findings (and their
 * `lint-ignore` headers) are not checked. Throws `HEADER_BAD_VALUE` for an
 * unknown rule id in a linted file's `lint-ignore` header.
 */
export async function lintSteps(
  steps: readonly LintStep[],
  options: { pgVersion: number },
): Promise<FileLint[]> {
  if (!steps.some((s) => s.lint)) return [];
  const parse = await loadParser();
  const state = createLintState();
  const out: FileLint[] = [];
  for (const step of steps) {
    if (step.newRun || !step.lint) startRun(state);
    const file = stepFile(step);
    const parsed = parseFile(parse, file);
    const lint = lintFile(file, parsed, {
      state,
      pgVersion: options.pgVersion,
      factsOnly: !step.lint,
    });
    if (step.lint) out.push(lint);
  }
  return out;
}
