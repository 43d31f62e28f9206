/**
 * MD5 (RFC 1321), for PostgreSQL's `md5` password method only: Web Crypto
 * has no MD5, and loading `node:crypto` for it would cost the start-up time
 * this driver exists to save. Pure.
 * https://www.rfc-editor.org/rfc/rfc1321
 *
 * @module
 */

const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
// RFC 1321 section 3.4: T[i] = floor(2^32 * abs(sin(i))), i = 1..64.
const SINES = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));

/** The MD5 digest of `input` as 32 lowercase hex digits. */
export function md5Hex(input: Uint8Array): string {
  const padded = new Uint8Array(Math.ceil((input.length + 9) / 64) * 64);
  padded.set(input);
  padded[input.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = input.length * 8;
  view.setUint32(padded.length - 8, bits >>> 0, true);
  view.setUint32(padded.length - 4, Math.floor(bits / 2 ** 32), true);
  const state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  for (let offset = 0; offset < padded.length; offset += 64) {
    compressBlock(state, view, offset);
  }
  const out = new DataView(new ArrayBuffer(16));
  state.forEach((word, i) => out.setUint32(i * 4, word, true));
  return Array.from(new Uint8Array(out.buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

function compressBlock(state: number[], block: DataView, offset: number): void {
  let [a, b, c, d] = state;
  for (let i = 0; i < 64; i++) {
    const round = i >> 4;
    let f: number;
    let g: number;
    if (round === 0) [f, g] = [(b & c) | (~b & d), i];
    else if (round === 1) [f, g] = [(d & b) | (~d & c), (5 * i + 1) % 16];
    else if (round === 2) [f, g] = [b ^ c ^ d, (3 * i + 5) % 16];
    else [f, g] = [c ^ (b | ~d), (7 * i) % 16];
    const sum = (a + f + SINES[i] + block.getUint32(offset + g * 4, true)) | 0;
    const shift = SHIFTS[(round << 2) | (i & 3)];
    [a, d, c] = [d, c, b];
    b = (b + ((sum << shift) | (sum >>> (32 - shift)))) | 0;
  }
  state[0] = (state[0] + a) >>> 0;
  state[1] = (state[1] + b) >>> 0;
  state[2] = (state[2] + c) >>> 0;
  state[3] = (state[3] + d) >>> 0;
}
