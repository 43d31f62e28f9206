/**
 * Database targets: server URLs (`postgres://`, libpq's parameters and
 * `PG*` variables, percent-decoding as libpq does, redacted for display) and
 * the embedded database (`pglite:memory`, `pglite:PATH`). Pure: the
 * environment is passed in.
 *
 * @module
 */

import { StrataError } from "./errors.ts";
import { redactUrl } from "./quote.ts";
import { parseConnectTimeout, parsePort, parseSslMode, type SslMode } from "./connection_values.ts";

export type { SslMode };

/** Everything needed to open a server connection. `password` never reaches output. */
export interface ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  readonly sslmode: SslMode;
  /** Directory of a Unix-domain socket, when `host` starts with `/`. */
  readonly socketDir?: string;
  readonly connectTimeoutSeconds: number;
  /** `application_name` sent at startup (default `strata`). */
  readonly applicationName?: string;
  /** libpq's `options`: command-line options for the server, e.g. `-c search_path=app`. */
  readonly options?: string;
  /**
   * `sslrootcert`: a PEM file of the CA to verify the server's certificate
   * with (a private CA), or `system` for the system's trust store. With it,
   * `require` verifies too, as in libpq.
   */
  readonly sslRootCert?: string;
  /** Where the settings came from, with any password redacted, for messages. */
  readonly display: string;
}

/** An embedded PostgreSQL (PGlite): in memory, or in a data directory. */
export interface EmbeddedOptions {
  readonly kind: "pglite";
  /** The data directory; null for `pglite:memory`. */
  readonly dataDir: string | null;
  readonly display: string;
}

/** What to connect to: a server, or the embedded database. */
export type DatabaseTarget = ConnectionOptions | EmbeddedOptions;

/** True for an embedded-database target. */
export function isEmbedded(target: DatabaseTarget): target is EmbeddedOptions {
  return "kind" in target && target.kind === "pglite";
}

/**
 * Parse any database URL: `pglite:memory`, `pglite:PATH` (a data directory),
 * or a server URL (see `parseDatabaseUrl`).
 */
export function parseDatabaseTarget(
  url: string,
  origin: string,
  env: Readonly<Record<string, string | undefined>> = {},
): DatabaseTarget {
  const u = url.trim();
  if (!u.startsWith("pglite:")) return parseDatabaseUrl(u, origin, env);
  const rest = u.slice("pglite:".length).replace(/^\/\//, "");
  if (rest === "") {
    throw new StrataError(
      "BAD_DATABASE_URL",
      `Cannot use the database URL from ${origin}: "pglite:" needs a place`,
      {
        hint: "Use pglite:memory, or pglite:PATH for a data directory (e.g. pglite:.strata/dev)",
      },
    );
  }
  return rest === "memory"
    ? { kind: "pglite", dataDir: null, display: "pglite:memory" }
    : { kind: "pglite", dataDir: rest, display: `pglite:${rest}` };
}

/** Where the database URL comes from, in order of precedence. */
export type DatabaseSource =
  | { readonly kind: "url"; readonly url: string; readonly origin: string }
  | { readonly kind: "file"; readonly path: string; readonly origin: string }
  | { readonly kind: "env" }
  | { readonly kind: "none" };

const URL_PARAMS = [
  "sslmode",
  "host",
  "port",
  "user",
  "password",
  "dbname",
  "connect_timeout",
  "application_name",
  "options",
  "sslrootcert",
];
const PG_VARS = ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE"];

/**
 * Pick the database source: `--database-url`, `--database-url-file`,
 * `DATABASE_URL`, `DATABASE_URL_FILE`, then libpq's `PG*` variables.
 */
export function chooseDatabaseSource(
  flags: { databaseUrl?: string; databaseUrlFile?: string },
  env: Readonly<Record<string, string | undefined>>,
): DatabaseSource {
  if (flags.databaseUrl !== undefined) {
    return { kind: "url", url: flags.databaseUrl, origin: "--database-url" };
  }
  if (flags.databaseUrlFile !== undefined) {
    return { kind: "file", path: flags.databaseUrlFile, origin: "--database-url-file" };
  }
  if (env.DATABASE_URL) return { kind: "url", url: env.DATABASE_URL, origin: "DATABASE_URL" };
  if (env.DATABASE_URL_FILE) {
    return { kind: "file", path: env.DATABASE_URL_FILE, origin: "DATABASE_URL_FILE" };
  }
  if (PG_VARS.some((v) => env[v])) return { kind: "env" };
  return { kind: "none" };
}

/** The error for a command that needs a database when none is configured. */
export function noDatabaseError(): StrataError {
  return new StrataError("NO_DATABASE", "Cannot connect: no database is configured", {
    hint: "Pass --database-url postgres://user@host:5432/db, or set DATABASE_URL, " +
      "DATABASE_URL_FILE, or libpq's PGHOST/PGDATABASE/PGUSER variables",
  });
}

/**
 * Parse a `postgres://` or `postgresql://` URL. Throws `BAD_DATABASE_URL`
 * naming `origin`, with the password redacted.
 */
export function parseDatabaseUrl(
  url: string,
  origin: string,
  env: Readonly<Record<string, string | undefined>> = {},
): ConnectionOptions {
  const bad = refuseUrl(origin);
  const u = parseServerUrl(url, bad);
  const params = parseQuery(u.search, bad);
  refuseUnknownParams(params, bad);
  const q = (k: string) => params.get(k);
  const decode = (s: string) => (s ? percentDecode(s, bad) : undefined);
  const host = q("host") ?? decode(u.hostname.replace(/^\[|\]$/g, "")) ?? env.PGHOST ?? "localhost";
  const user = q("user") ?? decode(u.username) ?? env.PGUSER ?? env.USER ?? "postgres";
  return withSocket({
    host,
    port: parsePort(q("port") ?? (u.port || env.PGPORT || "5432"), origin),
    user,
    password: q("password") ?? decode(u.password) ?? env.PGPASSWORD,
    database: q("dbname") ?? decode(u.pathname.slice(1)) ?? env.PGDATABASE ?? user,
    sslmode: parseSslMode(q("sslmode") ?? env.PGSSLMODE ?? "prefer", origin),
    connectTimeoutSeconds: parseConnectTimeout(
      q("connect_timeout") ?? env.PGCONNECT_TIMEOUT,
      origin,
    ),
    ...sessionParams({
      applicationName: q("application_name") ?? env.PGAPPNAME,
      options: q("options") ?? env.PGOPTIONS,
      sslRootCert: q("sslrootcert") ?? env.PGSSLROOTCERT,
    }),
    display: redactUrl(url.trim()),
  });
}

/** Throws `BAD_DATABASE_URL` for the URL from `origin`, saying why. */
type RefuseUrl = (why: string, hint?: string) => never;

function refuseUrl(origin: string): RefuseUrl {
  return (why, hint) => {
    throw new StrataError(
      "BAD_DATABASE_URL",
      `Cannot use the database URL from ${origin}: ${why}`,
      { hint: hint ?? "Expected postgres://user:password@host:5432/database?sslmode=require" },
    );
  };
}

/** `url` as a URL with a postgres scheme; refused otherwise, without echoing the text. */
function parseServerUrl(url: string, bad: RefuseUrl): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    // Never echo text that failed to parse: it may be a keyword string holding a password.
    return bad("it is not a URL (the text is not shown, as it may hold a password)");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    bad(`unsupported scheme "${u.protocol}"`);
  }
  return u;
}

function refuseUnknownParams(params: ReadonlyMap<string, string>, bad: RefuseUrl): void {
  for (const key of params.keys()) {
    if (!URL_PARAMS.includes(key)) {
      bad(`unknown parameter "${key}"`, `Supported parameters: ${URL_PARAMS.join(", ")}`);
    }
  }
}

/**
 * Decode `%XX` escapes as libpq does (a `+` stays a `+`). A malformed escape
 * is `BAD_DATABASE_URL`; the text is never shown, as it may be a password.
 */
function percentDecode(s: string, bad: RefuseUrl): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return bad(
      "a part of it has a malformed %-escape (the text is not shown, as it may be a password)",
      'Write "%" as %25 and other special characters as %XX (UTF-8 bytes), e.g. "!" as %21',
    );
  }
}

/** The URL's `?key=value&…` parameters, percent-decoded like libpq (last one wins). */
function parseQuery(search: string, bad: RefuseUrl): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = percentDecode(eq === -1 ? part : part.slice(0, eq), bad);
    out.set(key, percentDecode(eq === -1 ? "" : part.slice(eq + 1), bad));
  }
  return out;
}

/** Connection options from libpq's `PG*` variables (host defaults to localhost). */
export function connectionFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): ConnectionOptions {
  const user = env.PGUSER ?? env.USER ?? "postgres";
  const host = env.PGHOST ?? "localhost";
  const port = parsePort(env.PGPORT ?? "5432", "PGPORT");
  const database = env.PGDATABASE ?? user;
  return withSocket({
    host,
    port,
    user,
    password: env.PGPASSWORD,
    database,
    sslmode: parseSslMode(env.PGSSLMODE ?? "prefer", "PGSSLMODE"),
    connectTimeoutSeconds: parseConnectTimeout(env.PGCONNECT_TIMEOUT, "PGCONNECT_TIMEOUT"),
    ...sessionParams({
      applicationName: env.PGAPPNAME,
      options: env.PGOPTIONS,
      sslRootCert: env.PGSSLROOTCERT,
    }),
    display: `postgres://${user}@${host}:${port}/${database} (from PG* variables)`,
  });
}

/** The optional startup parameters that are set and not empty. */
function sessionParams(
  p: { applicationName?: string; options?: string; sslRootCert?: string },
): Pick<ConnectionOptions, "applicationName" | "options" | "sslRootCert"> {
  const out: { applicationName?: string; options?: string; sslRootCert?: string } = {};
  if (p.applicationName) out.applicationName = p.applicationName;
  if (p.options) out.options = p.options;
  if (p.sslRootCert) out.sslRootCert = p.sslRootCert;
  return out;
}

function withSocket(o: Omit<ConnectionOptions, "socketDir">): ConnectionOptions {
  return o.host.startsWith("/") ? { ...o, socketDir: o.host } : o;
}
