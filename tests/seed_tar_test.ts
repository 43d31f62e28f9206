/**
 * core/seed_tar.ts: WAL segments in a data-directory tarball are cut after
 * their last non-zero page; everything else is kept byte for byte.
 */

import assert from "node:assert/strict";
import { isWholeTar, trimWalSegments } from "../lib/core/seed_tar.ts";

const SEGMENT = "/pg_wal/000000010000000000000002";

/** A ustar tarball of `entries` (name, data), made by the system's tar: an independent writer. */
async function tarOf(entries: Array<[string, Uint8Array]>): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_tar_" });
  try {
    for (const [name, data] of entries) {
      const path = `${dir}/${name}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeFile(path, data);
    }
    const out = await new Deno.Command("tar", {
      args: ["--format=ustar", "-cf", "-", "-C", dir, ...entries.map(([n]) => n)],
      stdout: "piped",
    }).output();
    assert.ok(out.success, "tar runs");
    return out.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The entries of a tarball, read back by the system's tar. */
async function untar(tar: Uint8Array): Promise<Map<string, Uint8Array>> {
  const dir = await Deno.makeTempDir({ prefix: "strata_test_tar_" });
  try {
    await Deno.writeFile(`${dir}/t.tar`, tar);
    const out = await new Deno.Command("tar", { args: ["-xf", "t.tar"], cwd: dir }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    await Deno.remove(`${dir}/t.tar`);
    const files = new Map<string, Uint8Array>();
    const walk = async (sub: string) => {
      for await (const e of Deno.readDir(`${dir}/${sub}`)) {
        const rel = sub === "" ? e.name : `${sub}/${e.name}`;
        if (e.isDirectory) await walk(rel);
        else files.set(rel, await Deno.readFile(`${dir}/${rel}`));
      }
    };
    await walk("");
    return files;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function segment(usedBytes: number, size = 16 * 8192): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < usedBytes; i++) data[i] = (i % 251) + 1;
  return data;
}

Deno.test("trimWalSegments() cuts a WAL segment after its last non-zero page", async () => {
  const wal = segment(8192 + 100);
  const other = segment(3000, 5000);
  const tar = await tarOf([["base/5/1255", other], [SEGMENT.slice(1), wal]]);
  const trimmed = trimWalSegments(tar);
  const files = await untar(trimmed);
  assert.deepEqual(files.get(SEGMENT.slice(1)), wal.subarray(0, 2 * 8192), "two pages kept");
  assert.deepEqual(files.get("base/5/1255"), other, "other files are unchanged, zeros too");
  assert.ok(trimmed.length < tar.length - 13 * 8192);
});

Deno.test("trimWalSegments() keeps one page of an all-zero segment, and a full one whole", async () => {
  const full = segment(16 * 8192);
  const tar = await tarOf([
    ["pg_wal/000000010000000000000001", new Uint8Array(16 * 8192)],
    ["pg_wal/000000010000000000000002", full],
  ]);
  const files = await untar(trimWalSegments(tar));
  assert.deepEqual(files.get("pg_wal/000000010000000000000001"), new Uint8Array(8192));
  assert.deepEqual(files.get("pg_wal/000000010000000000000002"), full);
});

Deno.test("trimWalSegments() leaves files that only look like WAL alone", async () => {
  const zeros = new Uint8Array(4 * 8192);
  const tar = await tarOf([
    ["pg_wal/archive_status/000000010000000000000001.done", new Uint8Array(0)],
    ["pg_wal/00000001.history", zeros],
    ["base/pg_wal/000000010000000000000003x", zeros],
  ]);
  const trimmed = trimWalSegments(tar);
  const entries = trimmed.length - 1024; // then two zero blocks (tar pads further)
  assert.deepEqual(trimmed.subarray(0, entries), tar.subarray(0, entries), "byte for byte");
  const files = await untar(trimmed);
  assert.deepEqual(files.get("pg_wal/00000001.history"), zeros);
  assert.equal(files.size, 3);
});

Deno.test("trimWalSegments() refuses a tarball that ends inside an entry or has a bad header", async () => {
  const tar = await tarOf([["pg_wal/000000010000000000000001", segment(100, 4096)]]);
  assert.throws(() => trimWalSegments(tar.subarray(0, 1024)), /ends inside an entry/);
  const flipped = tar.slice();
  flipped[0] ^= 1;
  assert.throws(() => trimWalSegments(flipped), /Bad tar header checksum at byte 0/);
});

Deno.test("isWholeTar() accepts whole tarballs and refuses damaged ones", async () => {
  const tar = await tarOf([["PG_VERSION", new TextEncoder().encode("18\n")], [
    "base/5/1",
    segment(900, 2000),
  ]]);
  assert.equal(isWholeTar(tar), true);
  assert.equal(isWholeTar(trimWalSegments(tar)), true);
  assert.equal(isWholeTar(tar.subarray(0, 1536)), false, "cut inside the second entry");
  assert.equal(isWholeTar(tar.subarray(0, 512)), false, "a header and nothing else");
  assert.equal(isWholeTar(new Uint8Array(0)), false, "empty");
  assert.equal(isWholeTar(new Uint8Array(1024)), false, "only the end marker");
  assert.equal(isWholeTar(new TextEncoder().encode("not a tarball\n".repeat(100))), false);
  const flipped = tar.slice();
  flipped[3] ^= 1; // the first name's fourth byte
  assert.equal(isWholeTar(flipped), false, "a header whose checksum does not hold");
});
