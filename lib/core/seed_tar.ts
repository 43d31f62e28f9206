/**
 * Shrink a PGlite data-directory tarball before it is cached as the seed:
 * a WAL segment file is always 16 MB, but after a checkpoint only its first
 * pages hold records. Cutting each segment after its last non-zero page
 * leaves PostgreSQL nothing less to read (it stops at the end of the WAL,
 * and writes past the end of the file extend it), and makes the seed a
 * third smaller, which every later start of the embedded database pays for.
 *
 * Pure: bytes in, bytes out (ustar, as PGlite's `dumpDataDir` writes it).
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";

const BLOCK = 512;
const DECODER = new TextDecoder();
const ENCODER = new TextEncoder();
const WAL_PAGE = 8192;
const WAL_SEGMENT = /(^|\/)pg_wal\/[0-9A-F]{24}$/;

/** The tarball with every WAL segment cut after its last non-zero page (at least one page). */
export function trimWalSegments(tar: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const { header, data, whole } of readEntries(tar).entries) {
    const regular = header[156] === 0x30 || header[156] === 0;
    if (regular && WAL_SEGMENT.test(entryName(header))) {
      const kept = keptLength(data);
      parts.push(withSize(header, kept), padded(data.subarray(0, kept)));
    } else {
      parts.push(whole);
    }
  }
  parts.push(new Uint8Array(BLOCK * 2));
  return concatBytes(parts);
}

/**
 * Whether `tar` is a whole ustar tarball: every header's checksum holds,
 * every entry fits, and it ends with a zero block. PGlite, given a damaged
 * tarball, tries to gunzip it and fails outside any promise it returns, so a
 * seed is checked before PGlite sees it.
 */
export function isWholeTar(tar: Uint8Array): boolean {
  try {
    const { entries, ended } = readEntries(tar);
    return ended && entries.length > 0;
  } catch {
    return false;
  }
}

interface Entry {
  readonly header: Uint8Array;
  readonly data: Uint8Array;
  /** The header and the data with its padding, as in the tarball. */
  readonly whole: Uint8Array;
}

/**
 * The entries before the end block, and whether there was one. Throws when
 * a header's checksum does not hold or an entry runs past the end.
 */
function readEntries(tar: Uint8Array): { entries: Entry[]; ended: boolean } {
  const entries: Entry[] = [];
  let offset = 0;
  while (offset + BLOCK <= tar.length) {
    if (isZeroBlock(tar, offset)) return { entries, ended: true };
    const header = tar.subarray(offset, offset + BLOCK);
    if (!checksumHolds(header)) throw new Error(`Bad tar header checksum at byte ${offset}`);
    const size = readOctal(header, 124, 12);
    const next = offset + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (next > tar.length) throw new Error("The tarball ends inside an entry");
    entries.push({
      header,
      data: tar.subarray(offset + BLOCK, offset + BLOCK + size),
      whole: tar.subarray(offset, next),
    });
    offset = next;
  }
  return { entries, ended: false };
}

function checksumHolds(header: Uint8Array): boolean {
  let stored: number;
  try {
    stored = readOctal(header, 148, 8);
  } catch {
    return false;
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return sum === stored;
}

function isZeroBlock(tar: Uint8Array, offset: number): boolean {
  for (let i = offset; i < offset + BLOCK; i++) if (tar[i] !== 0) return false;
  return true;
}

function readOctal(header: Uint8Array, at: number, length: number): number {
  const text = DECODER.decode(header.subarray(at, at + length)).replace(/[\0 ]+$/, "")
    .trim();
  const value = /^[0-7]*$/.test(text) ? (text === "" ? 0 : parseInt(text, 8)) : NaN;
  if (!Number.isFinite(value)) throw new Error(`Bad tar header field at ${at}: ${text}`);
  return value;
}

function entryName(header: Uint8Array): string {
  const field = (at: number, length: number) => {
    const bytes = header.subarray(at, at + length);
    const end = bytes.indexOf(0);
    return DECODER.decode(end === -1 ? bytes : bytes.subarray(0, end));
  };
  const prefix = field(345, 155);
  const name = field(0, 100);
  return prefix === "" ? name : `${prefix}/${name}`;
}

/** Up to the end of the last WAL page that holds a non-zero byte; at least one page. */
function keptLength(data: Uint8Array): number {
  let last = data.length - 1;
  while (last >= 0 && data[last] === 0) last--;
  const pages = Math.max(1, Math.ceil((last + 1) / WAL_PAGE));
  return Math.min(data.length, pages * WAL_PAGE);
}

/** A copy of `header` with the size field set to `size` and the checksum recomputed. */
function withSize(header: Uint8Array, size: number): Uint8Array {
  const out = header.slice();
  out.set(ENCODER.encode(size.toString(8).padStart(11, "0") + "\0"), 124);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of out) sum += byte;
  out.set(ENCODER.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return out;
}

function padded(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(data.length / BLOCK) * BLOCK);
  out.set(data);
  return out;
}
