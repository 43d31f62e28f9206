/**
 * sha256.ts against Web Crypto: the FIPS 180-4 test vectors, every length
 * across the padding boundaries (55, 56, 63, 64 bytes and their multiples),
 * random bytes, and a buffer reused between calls.
 */

import assert from "node:assert/strict";
import { sha256Hex } from "../lib/core/sha256.ts";

const enc = new TextEncoder();

async function webCrypto(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("sha256Hex() gives the FIPS 180-4 vectors", () => {
  assert.equal(
    sha256Hex(new Uint8Array()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    sha256Hex(enc.encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    sha256Hex(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    sha256Hex(new Uint8Array(1_000_000).fill(0x61)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("sha256Hex() equals Web Crypto for every length up to 300 bytes and random inputs", async () => {
  const bytes = new Uint8Array(300);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (let n = 0; n <= bytes.length; n++) {
    const data = bytes.subarray(0, n);
    assert.equal(sha256Hex(data), await webCrypto(data), `length ${n}`);
  }
  for (let round = 0; round < 50; round++) {
    const data = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 5000)));
    assert.equal(sha256Hex(data), await webCrypto(data), `random length ${data.length}`);
  }
});

Deno.test("sha256Hex() of a subarray hashes only that view, and calls do not share state", () => {
  const whole = enc.encode("xxabcxx");
  assert.equal(sha256Hex(whole.subarray(2, 5)), sha256Hex(enc.encode("abc")));
  const first = sha256Hex(enc.encode("a".repeat(100)));
  sha256Hex(enc.encode("b".repeat(1000)));
  assert.equal(sha256Hex(enc.encode("a".repeat(100))), first);
});
