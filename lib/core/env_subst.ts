/**
 * Environment substitution in migration files: a file's `-- env: NAME[, NAME]`
 * header declares the variables it may use as `${NAME}`. Values are attached
 * to the files when a command runs them (`attachEnv`), substituted only in
 * the texts sent to the server (`substituteEnv`), and kept out of what is
 * printed or logged: server positions are mapped back to the file as
 * written (`originalPosition`) and values in server messages are shown as
 * `${NAME}` (`maskEnvValues`). The checksum covers the text as written. An
 * undeclared `${...}` is left alone. Pure.
 *
 * Invariant: `substituteEnv(file, text).text` with every span's replacement
 * put back to `${NAME}` is `text`.
 *
 * @module
 */

import { createDbServerError, type DbServerError } from "./db_error.ts";
import { StrataError } from "./errors.ts";
import { mapMigrationFiles } from "./files.ts";
import type { Migration, MigrationFile, Step } from "./types.ts";

/** The values of a file's declared variables that are set (unset names are absent). */
export type EnvValues = Readonly<Record<string, string>>;

/** One `${NAME}` replaced: where it was in the original text, in code points. */
export interface EnvSpan {
  readonly name: string;
  /** Code-point offset of `${` in the original text. */
  readonly at: number;
  /** Code points of `${NAME}`. */
  readonly originalLength: number;
  /** Code points of the value. */
  readonly valueLength: number;
}

/** A text with its declared variables replaced, and where. */
export interface Substituted {
  readonly text: string;
  readonly spans: readonly EnvSpan[];
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Attach to every file that declares `env` the values of its declared names
 * that `env` sets. Files without the header are returned unchanged; so is
 * everything when `env` is undefined (nothing is substituted then).
 */
export function attachEnv(
  migrations: readonly Migration[],
  env: Readonly<Record<string, string | undefined>> | undefined,
  onValue?: (value: string) => void,
): Migration[] {
  if (env === undefined) return [...migrations];
  const attach = (f: MigrationFile): MigrationFile => {
    if (!f.header.env) return f;
    const values: Record<string, string> = {};
    for (const name of f.header.env) {
      const value = env[name];
      if (value !== undefined) values[name] = value;
      if (value !== undefined) onValue?.(value);
    }
    return { ...f, env: values };
  };
  return migrations.map((m) => mapMigrationFiles(m, attach));
}

/** The declared names of `file` that have no value attached (none when nothing is attached). */
export function unsetNames(file: MigrationFile): string[] {
  if (!file.env || !file.header.env) return [];
  return file.header.env.filter((n) => !(n in file.env!));
}

/**
 * Throw `ENV_UNSET` when a file a step runs declares a variable that is not
 * set, naming every such file and variable; returns nothing otherwise.
 */
export function checkEnvSet(steps: readonly Step[]): void {
  const missing: string[] = [];
  for (const step of steps) {
    const file = step.kind === "up" ? step.migration.up : step.migration.down;
    if (!file) continue;
    const names = unsetNames(file);
    if (names.length) missing.push(`"${file.fileName}": ${names.join(", ")}`);
  }
  if (missing.length === 0) return;
  throw new StrataError(
    "ENV_UNSET",
    `Cannot run: ${missing.length === 1 ? "a file declares" : "files declare"} ` +
      "environment variables that are not set",
    {
      details: missing.map((m) => `- ${m}`),
      hint: "Set them in the environment (an empty value counts as set); nothing was run",
    },
  );
}

/**
 * `text` (a part of `file`) with each `${NAME}` of a declared name that has
 * a value replaced by it. Returns the text unchanged when the file has no
 * values attached. Throws `ENV_UNSET` for a declared name without a value.
 */
export function substituteEnv(file: MigrationFile, text: string): Substituted {
  const values = file.env;
  const declared = file.header.env;
  if (!values || !declared || !text.includes("${")) return { text, spans: [] };
  const spans: EnvSpan[] = [];
  let out = "";
  let last = 0;
  let cp = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1];
    if (!declared.includes(name)) continue;
    const value = values[name];
    if (value === undefined) {
      throw new StrataError("ENV_UNSET", `Cannot run "${file.fileName}": ${name} is not set`, {
        file: file.fileName,
        hint: `The file declares "-- env: ${declared.join(", ")}"; set ${name}`,
      });
    }
    const before = text.slice(last, m.index);
    cp += [...before].length;
    spans.push({ name, at: cp, originalLength: m[0].length, valueLength: [...value].length });
    cp += m[0].length;
    out += before + value;
    last = m.index + m[0].length;
  }
  return { text: out + text.slice(last), spans };
}

/**
 * Map a 0-based code-point offset in a substituted text to the text as
 * written: inside a value it points at the value's `${`.
 */
export function originalPosition(spans: readonly EnvSpan[], offset: number): number {
  let shift = 0;
  for (const s of spans) {
    const start = s.at + shift;
    if (offset < start) return offset - shift;
    if (offset < start + s.valueLength) return s.at;
    shift += s.valueLength - s.originalLength;
  }
  return offset - shift;
}

/** Code points the substitution added (negative when it removed some). */
export function lengthChange(spans: readonly EnvSpan[]): number {
  return spans.reduce((n, s) => n + s.valueLength - s.originalLength, 0);
}

/**
 * `message` with every attached value of `file` shown as `${NAME}`. A value
 * is replaced only where it stands as a whole word when its ends are word
 * characters, so that a short value does not mangle other words. Longest
 * values first.
 */
export function maskEnvValues(message: string, file: MigrationFile): string {
  if (!file.env) return message;
  const entries = Object.entries(file.env).filter(([, v]) => v !== "")
    .sort((a, b) => b[1].length - a[1].length);
  let out = message;
  for (const [name, value] of entries) {
    const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const head = /^\w/.test(value) ? "(?<![\\w])" : "";
    const tail = /\w$/.test(value) ? "(?![\\w])" : "";
    out = out.replace(new RegExp(head + escaped + tail, "g"), () => `\${${name}}`);
  }
  return out;
}

/**
 * A server error about a message in which `at.text` (a part of `file`, as
 * written) was sent substituted from code point `at.start` on: its position
 * mapped back to the text as written, and its message, detail, hint and
 * context with the values masked. The original error is not kept as the
 * cause (it holds the values). Returns `err` itself when nothing was attached.
 */
export function restoreServerError(
  err: DbServerError,
  file: MigrationFile,
  at: { readonly start: number; readonly text: string },
): DbServerError {
  if (!file.env) return err;
  const spans = substituteEnv(file, at.text).spans;
  let position = err.position;
  if (position !== undefined && position - 1 >= at.start) {
    const rel = position - 1 - at.start;
    const change = lengthChange(spans);
    const inside = rel < [...at.text].length + change;
    position = at.start + (inside ? originalPosition(spans, rel) : rel - change) + 1;
  }
  const mask = (t: string | undefined) => t === undefined ? undefined : maskEnvValues(t, file);
  return createDbServerError({
    sqlstate: err.sqlstate,
    message: maskEnvValues(err.message, file),
    detail: mask(err.detail),
    hint: mask(err.hint),
    position,
    where: mask(err.where),
    severity: err.severity,
  });
}
