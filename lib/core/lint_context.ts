/**
 * What the lint rules know besides the statement in front of them: the
 * schema facts gathered from every earlier file (column types, validated
 * `IS NOT NULL` checks), what this run created (new tables, indexes and
 * columns, on which no index or constraint rule fires), the server version,
 * and whether the statement runs inside a transaction. Pure.
 *
 * @module
 */

import type { Effect, LockMode, RuleId, Severity } from "./lint_rules.ts";
import { type ColumnType, location, type Tree } from "./lint_tree.ts";

/** Facts about the schema that persist from file to file and run to run. */
export interface SchemaFacts {
  /** Column types by table key, then column name, from CREATE TABLE / ADD COLUMN / TYPE. */
  readonly columns: Map<string, Map<string, ColumnType>>;
  /** `table\0constraint` of `CHECK (c IS NOT NULL) NOT VALID` constraints, to the column. */
  readonly pendingNotNull: Map<string, string>;
  /** `table\0column` with a valid `CHECK (c IS NOT NULL)`: SET NOT NULL skips its scan (PG 12+). */
  readonly validNotNull: Set<string>;
}

/** What the current run created: the rules treat these as new and empty. */
export interface RunFacts {
  readonly tables: Set<string>;
  readonly indexes: Set<string>;
  /** `table\0column` added to an existing table in this run. */
  readonly columns: Set<string>;
}

/** The state a lint walks with: facts for the whole walk, and the current run. */
export interface LintState {
  readonly schema: SchemaFacts;
  run: RunFacts;
}

/** A fresh state, before the first file. */
export function createLintState(): LintState {
  return {
    schema: { columns: new Map(), pendingNotNull: new Map(), validNotNull: new Set() },
    run: emptyRun(),
  };
}

/** Start a new run: what earlier runs created is now existing (the schema facts stay). */
export function startRun(state: LintState): void {
  state.run = emptyRun();
}

function emptyRun(): RunFacts {
  return { tables: new Set(), indexes: new Set(), columns: new Set() };
}

/** A finding before it is placed in its file: the byte offset where it points. */
export interface RawFinding {
  readonly rule: RuleId;
  /** UTF-8 byte offset in the file's text. */
  readonly at: number;
  readonly message: string;
  /** The relations it is about (run-wide keys), the first being the one the lock is on. */
  readonly relations: readonly string[];
  /** Overrides the rule's severity (a warning where strata cannot be sure). */
  readonly severity?: Severity;
  /** Overrides the rule's safe alternative (advice that depends on the server version). */
  readonly safe?: string;
  /** Overrides the rule's predicted effect, for `--trace`. */
  readonly expect?: Effect;
}

/** A lock a statement is predicted to take on a relation that existed before the run. */
export interface PredictedLock {
  readonly relation: string;
  readonly mode: LockMode;
}

/** What a checker gets besides the statement's body. */
export interface StatementContext {
  readonly state: LintState;
  /** The server's major version (17 when assumed). */
  readonly pgVersion: number;
  /** True when the statement runs inside a transaction block. */
  readonly inTransaction: boolean;
  /** Byte offset (in the file) of the statement's first token. */
  readonly at: number;
  /** Byte offset (in the file) that the tree's locations count from. */
  readonly base: number;
}

/** True when the run created `key` (a table, view or matview key). */
export function isNew(c: StatementContext, key: string): boolean {
  return c.state.run.tables.has(key);
}

/** The file byte offset of `node`'s location, or of the statement when it has none. */
export function byteAt(c: StatementContext, node: Tree): number {
  const at = location(node);
  return at === undefined ? c.at : c.base + at;
}

/** `table\0name`: the key of a column or constraint of a table. */
export function memberKey(table: string, name: string): string {
  return `${table}\0${name}`;
}

/** The finding that CONCURRENTLY cannot run where the statement is. */
export function concurrentlyInTransaction(c: StatementContext, what: string): RawFinding {
  return {
    rule: "concurrently-in-transaction",
    at: c.at,
    message: `${what} runs inside a transaction block here, where PostgreSQL refuses it`,
    relations: [],
  };
}
