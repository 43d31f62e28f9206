/**
 * Values between JavaScript and PostgreSQL's text format: result columns
 * decoded by type OID the way postgres.js decodes them (so both drivers
 * return the same rows), and parameters encoded as text. Pure.
 *
 * @module
 */

/**
 * A text-format value as postgres.js returns it: bool → boolean; int2, int4,
 * oid, float4, float8 → number; json, jsonb → parsed; date, timestamp,
 * timestamptz → Date; bytea (hex output) → Uint8Array (postgres.js gives a
 * Buffer, node's subclass of it); everything else, int8 and numeric too →
 * string.
 */
export function decodeValue(text: string, typeOid: number): unknown {
  switch (typeOid) {
    case 16:
      return text === "t";
    case 17:
      return text.startsWith("\\x") ? decodeHex(text.slice(2)) : text;
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
      return Number(text);
    case 114:
    case 3802:
      return JSON.parse(text);
    case 1082:
    case 1114:
    case 1184:
      return new Date(text);
    default:
      return text;
  }
}

function decodeHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

/**
 * A parameter as text (null for SQL NULL): strings as they are, booleans as
 * `t`/`f`, Dates in ISO 8601, bytes as `\x` hex, arrays as array literals,
 * other objects as JSON, numbers and bigints in decimal.
 */
export function encodeParam(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "t" : "f";
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) {
    return "\\x" + Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  if (Array.isArray(value)) return encodeArray(value);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function encodeArray(values: readonly unknown[]): string {
  const items = values.map((v) => {
    const text = Array.isArray(v) ? encodeArray(v) : encodeParam(v);
    if (text === null) return "NULL";
    if (Array.isArray(v)) return text;
    return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  });
  return `{${items.join(",")}}`;
}
