/**
 * db/pglite_start.ts: the seed cache. The first start writes a small seed
 * (WAL cut, no template databases); later starts, in memory or in a new data
 * directory, load it and are ordinary, writable, durable databases; a seed
 * that cannot be loaded is replaced.
 */

import assert from "node:assert/strict";
import type { PGlite } from "@electric-sql/pglite";
import { seedPath, startPglite } from "../lib/db/pglite_start.ts";

const PARSERS = { 20: (text: string) => text };

async function tarEntries(path: string): Promise<Map<string, number>> {
  const out = await new Deno.Command("tar", {
    args: ["-tvf", path],
    stdout: "piped",
    stderr: "null",
  })
    .output();
  assert.ok(out.success);
  const sizes = new Map<string, number>();
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 6) sizes.set(f.slice(5).join(" ").replace(/^\//, ""), Number(f[2]));
  }
  return sizes;
}

async function value(pg: PGlite, sql: string): Promise<unknown> {
  const r = await pg.query<Record<string, unknown>>(sql);
  return Object.values(r.rows[0])[0];
}

/** Write more WAL than the cut segment held: 2000 rows of 10 kB, through a checkpoint. */
async function writeMuch(pg: PGlite): Promise<void> {
  await pg.exec(
    "CREATE TABLE big (id int PRIMARY KEY, v text);" +
      "INSERT INTO big SELECT g, repeat(md5(g::text), 320) FROM generate_series(1, 2000) g;" +
      "CHECKPOINT;",
  );
}

Deno.test("the first start writes a small seed; later starts load it into ordinary databases", async () => {
  const cache = await Deno.makeTempDir({ prefix: "strata_test_cache_" });
  const data = await Deno.makeTempDir({ prefix: "strata_test_pglite_" });
  try {
    const first = await startPglite({ dataDir: null, cacheDir: cache, parsers: PARSERS });
    await first.close();
    const entries = await tarEntries(seedPath(cache));
    const wal = [...entries].filter(([name]) => /^pg_wal\/[0-9A-F]{24}$/.test(name));
    assert.equal(wal.length, 1, "one WAL segment");
    assert.ok(wal[0][1] <= 64 * 1024, `the segment is cut (${wal[0][1]} bytes)`);
    assert.ok(
      !entries.has("base/1/PG_VERSION") && !entries.has("base/4/PG_VERSION"),
      "no templates",
    );
    const size = (await Deno.stat(seedPath(cache))).size;
    assert.ok(size < 12_000_000, `seed is ${size} bytes (40 MB before)`);

    const memory = await startPglite({ dataDir: null, cacheDir: cache, parsers: PARSERS });
    try {
      assert.equal(
        await value(memory, "SELECT string_agg(datname, ',') FROM pg_database"),
        "postgres",
      );
      assert.equal(await value(memory, "SHOW shared_buffers"), "16MB");
      assert.equal(await value(memory, "SELECT count(*) FROM pg_class WHERE relname = 'big'"), "0");
      await writeMuch(memory);
      assert.equal(await value(memory, "SELECT count(*) FROM big"), "2000");
    } finally {
      await memory.close();
    }

    const dir = `${data}/db`;
    const seeded = await startPglite({ dataDir: dir, cacheDir: cache, parsers: PARSERS });
    await writeMuch(seeded);
    await seeded.close();
    const reopened = await startPglite({ dataDir: dir, cacheDir: cache, parsers: PARSERS });
    try {
      assert.equal(
        await value(reopened, "SELECT count(*) FROM big"),
        "2000",
        "durable after reopen",
      );
      assert.equal(await value(reopened, "SELECT sum(length(v)) FROM big"), String(2000 * 10240));
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(cache, { recursive: true });
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("a damaged seed is replaced, and the start still succeeds", async () => {
  const cache = await Deno.makeTempDir({ prefix: "strata_test_cache_" });
  try {
    const garbage = new TextEncoder().encode("not a tarball\n".repeat(100));
    await Deno.writeFile(seedPath(cache), garbage);
    const pg = await startPglite({ dataDir: null, cacheDir: cache, parsers: PARSERS });
    try {
      assert.equal(await value(pg, "SELECT 1 + 1"), 2);
    } finally {
      await pg.close();
    }
    const whole = await Deno.readFile(seedPath(cache));
    assert.ok((await tarEntries(seedPath(cache))).has("PG_VERSION"), "a real seed took its place");

    await Deno.writeFile(seedPath(cache), whole.subarray(0, whole.length >> 1)); // cut in half
    const again = await startPglite({ dataDir: null, cacheDir: cache, parsers: PARSERS });
    try {
      assert.equal(await value(again, "SELECT 2 + 2"), 4);
    } finally {
      await again.close();
    }
    assert.ok((await Deno.stat(seedPath(cache))).size > whole.length >> 1, "rewritten");
    assert.ok((await tarEntries(seedPath(cache))).has("PG_VERSION"), "whole again");
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
