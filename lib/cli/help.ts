/**
 * Help texts and "did you mean" for commands. Pure text from the command
 * table.
 *
 * @module
 */

import { GLOBAL_OPTIONS, type OptionTable } from "../commands/options.ts";
import { closestWord } from "../core/words.ts";
import { COMMANDS } from "./spec.ts";

function optionLines(table: OptionTable): string {
  return Object.entries(table).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.arg ? ` ${o.arg}` : ""}`;
    return `  ${flag.padEnd(36)} ${o.help}`;
  }).join("\n");
}

const EXIT_CODES =
  "Exit codes: 0 ok, 1 a migration failed, 2 usage or invalid files, 3 environment " +
  "not\nready (connection, lock, permissions, read-only), 4 database disagrees with files, 5 " +
  "pending\nmigrations (status --exit-code), 6 lint found an error, 130/143 interrupted by\n" +
  "SIGINT/SIGTERM.";

/** The program's help text. */
export function programHelp(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(12)} ${c.summary}`)
    .join("\n");
  return `strata: PostgreSQL schema migrations in plain SQL

Usage: strata [OPTIONS] COMMAND [ARGS]

Commands:
${cmds}

Options:
${optionLines(GLOBAL_OPTIONS)}

${EXIT_CODES}
`;
}

/** One command's help text. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const own = Object.keys(c.options).length ? `\nOptions:\n${optionLines(c.options)}\n` : "";
  return `strata ${name}: ${c.summary}

Usage: strata [OPTIONS] ${name} ${c.usage}

${c.details}
${own}
Global options:
${optionLines(GLOBAL_OPTIONS)}

${EXIT_CODES}
`;
}

/**
 * The command closest to `name` (within two edits, or one it begins), if any.
 * Read-only commands come first, so a typo never suggests a writing command
 * when a read-only one is as close (`statu` is status, not stamp).
 */
export function closestCommand(name: string): string | undefined {
  const names = Object.keys(COMMANDS);
  const ordered = [
    ...names.filter((n) => !COMMANDS[n].writes),
    ...names.filter((n) => COMMANDS[n].writes),
  ];
  return closestWord(name.toLowerCase(), ordered, { prefix: true });
}
