/**
 * Which files `lint` looks at, in which order, and which of them form one
 * run (so that a table created by one is new for the others). Files before
 * the linted ones are walked too, for facts only (column types, validated
 * NOT NULL checks). Pure.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { compareBig, parseFileName } from "./files.ts";
import type { Migration, Step } from "./types.ts";

/** One file in the walk: the step that runs it (`stepFile` in script.ts gives the file). */
export type LintStep = Step & {
  /** True for a file to report on; false for one walked for facts (or replayed by the trace). */
  readonly lint: boolean;
  /** True when a new run starts here: what earlier files created is no longer new. */
  readonly newRun: boolean;
};

/** What to lint. */
export type LintScope =
  | { readonly kind: "all" }
  | { readonly kind: "pending"; readonly applied: ReadonlySet<bigint> }
  | { readonly kind: "explicit"; readonly names: readonly string[] };

/**
 * The walk for `scope`, in version order:
 * - `all`: every up file, each its own run (as if the files before it were
 *   applied: the strictest reading, for CI);
 * - `pending`: applied files for facts, then the pending ones as one run;
 * - `explicit`: the named versions or file names as one run, the files
 *   before them for facts; named down files come last, each its own run.
 * Throws `UNKNOWN_TARGET` for a name that matches no file. Returns `[]` when
 * there is nothing to lint.
 */
export function planLintSteps(migrations: readonly Migration[], scope: LintScope): LintStep[] {
  if (scope.kind === "all") {
    return migrations.map((migration) => ({
      migration,
      kind: "up",
      lint: true,
      newRun: true,
    }));
  }
  const { ups, downs } = scope.kind === "pending"
    ? {
      ups: new Set(migrations.filter((m) => !scope.applied.has(m.version)).map((m) => m.version)),
      downs: [],
    }
    : resolveNames(migrations, scope.names);
  const lastIndex = (test: (m: Migration) => boolean) =>
    migrations.reduce((at, m, i) => (test(m) ? i : at), -1);
  const last = Math.max(lastIndex((m) => ups.has(m.version)), lastIndex((m) => downs.includes(m)));
  const steps: LintStep[] = [];
  let previousLinted = false;
  for (const migration of migrations.slice(0, last + 1)) {
    const lint = ups.has(migration.version);
    steps.push({ kind: "up", migration, lint, newRun: lint && !previousLinted });
    previousLinted = lint;
  }
  for (const migration of downs) {
    steps.push({ kind: "down", migration, lint: true, newRun: true });
  }
  return steps;
}

interface Chosen {
  readonly ups: Set<bigint>;
  readonly downs: Migration[];
}

function resolveNames(migrations: readonly Migration[], names: readonly string[]): Chosen {
  const ups = new Set<bigint>();
  const downs: Migration[] = [];
  for (const name of names) {
    const base = name.split(/[\\/]/).pop() ?? name;
    const parsed = parseFileName(base);
    const version = /^\d+$/.test(name) ? BigInt(name) : parsed?.version;
    const m = migrations.find((x) =>
      x.version === version &&
      (parsed === null || x.up.fileName === base || x.down?.fileName === base)
    );
    if (!m) {
      throw new StrataError("UNKNOWN_TARGET", `Cannot lint "${name}": no such migration`, {
        hint: "Name a version (0007) or a file of the migrations directory " +
          "(migrations/0007_add_index.up.sql); --all lints every file",
      });
    }
    if (parsed?.direction === "down") {
      if (!downs.includes(m)) downs.push(m);
    } else ups.add(m.version);
  }
  return { ups, downs: downs.sort((a, b) => compareBig(a.version, b.version)) };
}
