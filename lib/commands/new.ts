/**
 * `new MESSAGE`: create the next up/down pair with a header.
 *
 * @module
 */

import { StrataError } from "../core/errors.ts";
import { nextVersion, slugify } from "../core/new_version.ts";
import type { NEW_OPTIONS, OptionValues } from "./options.ts";
import { type CommandContext } from "./context.ts";

/** Create `<version>_<slug>.up.sql` and `.down.sql`; never overwrites; prints both paths. */
export async function runNew(
  ctx: CommandContext,
  options: OptionValues<typeof NEW_OPTIONS>,
  messageText: string,
): Promise<number> {
  const message = messageText.trim();
  if (message === "") {
    throw new StrataError("USAGE", "Cannot create a migration: the message is empty", {
      hint: 'Describe the change, e.g. strata new "add users table"',
    });
  }
  const slug = slugify(message);
  if (slug === "") {
    throw new StrataError(
      "USAGE",
      `Cannot create a migration from "${message}": it makes an empty name`,
      {
        hint: 'Use letters or digits in the message, e.g. strata new "add users"',
      },
    );
  }
  const names = await listOrCreate(ctx.dir);
  const now = new Date();
  const { version, previous } = nextVersion(names, {
    timestamp: options.timestamp ? now : undefined,
  });
  const base = `${ctx.dir.replace(/\/+$/, "")}/${version}_${slug}`;
  const created = now.toISOString().replace(/\.\d+Z$/, "Z");
  const up = `-- message: ${message}\n` + (previous ? `-- revises: ${previous}\n` : "") +
    `-- created: ${created}\n\n`;
  const down = `-- message: revert ${message}\n\n`;
  await writeNew(`${base}.up.sql`, up);
  await writeNew(`${base}.down.sql`, down);
  ctx.io.stdout(
    ctx.json
      ? JSON.stringify({ version, up: `${base}.up.sql`, down: `${base}.down.sql` }) + "\n"
      : `${base}.up.sql\n${base}.down.sql\n`,
  );
  return 0;
}

async function listOrCreate(dir: string): Promise<string[]> {
  try {
    await Deno.mkdir(dir, { recursive: true });
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    return names;
  } catch (err) {
    throw new StrataError(
      "DIR_NOT_WRITABLE",
      `Cannot create migrations in "${dir}": ${(err as Error).message}`,
      {
        hint: "Point --dir (or STRATA_DIR) at a directory you can write",
        cause: err,
      },
    );
  }
}

async function writeNew(path: string, text: string): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, { createNew: true });
  } catch (err) {
    if (err instanceof Deno.errors.AlreadyExists) {
      throw new StrataError("FILE_EXISTS", `Cannot create "${path}": it already exists`, {
        hint: "strata new never overwrites; choose another message or remove the file",
      });
    }
    throw new StrataError(
      "DIR_NOT_WRITABLE",
      `Cannot create "${path}": ${(err as Error).message}`,
      {
        hint: "Check the directory's permissions",
        cause: err,
      },
    );
  }
}
