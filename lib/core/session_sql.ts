/**
 * The SQL of strata's own session: preparing it, putting it back after each
 * migration file, and the advisory lock. Every name is schema-qualified and
 * every parameter typed, so nothing another role creates (a function
 * `public.pg_try_advisory_lock(text)`, an operator, a type) and no
 * search_path a migration leaves behind can take these statements over.
 * Pure.
 *
 * @module
 */

/**
 * The settings strata relies on: idle timeouts off (a slow deploy must not
 * lose its lock), standard_conforming_strings on (strata's lexer and quoting
 * assume it), DateStyle ISO (the drivers read timestamps in ISO form; a
 * role's or database's `SQL, DMY` would make them unreadable), and on a Linux
 * server with PostgreSQL 14+ a client connection check so a killed strata
 * frees its lock within seconds. The check is refused by servers whose
 * platform cannot report a closed socket (Windows; macOS before 15), which
 * would fail every connection, so it is only asked of Linux servers.
 * `when`: the condition (SQL) under which a server has the setting.
 */
const SETTINGS: ReadonlyArray<{ name: string; value: string; when?: string }> = [
  { name: "idle_in_transaction_session_timeout", value: "0" },
  { name: "standard_conforming_strings", value: "on" },
  // The output style only: the date order (DMY or MDY) stays what the role and database say,
  // so a migration's '25/12/2024'::date reads as it would without strata.
  { name: "datestyle", value: "ISO" },
  {
    name: "idle_session_timeout",
    value: "0",
    when: `pg_catalog.current_setting('server_version_num')::pg_catalog.int4
                 OPERATOR(pg_catalog.>=) 140000`,
  },
  {
    name: "client_connection_check_interval",
    value: "2000",
    when: `pg_catalog.current_setting('server_version_num')::pg_catalog.int4
                 OPERATOR(pg_catalog.>=) 140000
             AND pg_catalog.strpos(pg_catalog.lower(pg_catalog.version()), 'linux')
                 OPERATOR(pg_catalog.>) 0`,
  },
];

/** Each setting as a select-list expression: the new value, or NULL where the server lacks it. */
const SETTINGS_EXPRESSIONS = SETTINGS.map(({ name, value, when }) => {
  const set = `pg_catalog.set_config('${name}', '${value}', false)`;
  return when === undefined ? set : `CASE WHEN ${when}
            THEN ${set}
       END`;
});

/**
 * The session settings strata relies on, as one statement that any server
 * accepts (the dry-run script's form: it cannot know the server).
 */
export const SESSION_SETTINGS = `SELECT ${SETTINGS_EXPRESSIONS.join(",\n       ")};\n`;

const RESETS = "RESET ALL;\nRESET SESSION AUTHORIZATION;\n";

/**
 * Put the session back as strata prepared it, after every migration file
 * (and between the files of one --single-transaction batch): every setting a
 * file changed with SET or set_config(..., false), its SET ROLE and SET
 * SESSION AUTHORIZATION. Settings given at connection time (the URL's
 * `options`, the role's and database's defaults) are what RESET ALL returns
 * to. Not restored: temporary tables, prepared statements, LISTEN, cursors
 * held open. This is the form for any server; `restoreSessionFor` is the one
 * for a session whose server is known.
 */
export const RESTORE_SESSION = RESETS + SESSION_SETTINGS;

/**
 * The restore for a session whose `PREPARE_SESSION` row is `applied` (its
 * columns `s1`…: a setting's new value, or null where the server lacks it):
 * plain SET statements instead of the portable SELECT. The same state, and
 * the cheaper text (a SET is a utility statement: nothing to plan, no name to
 * resolve), sent after every migration file.
 */
export function restoreSessionFor(applied: Readonly<Record<string, unknown>>): string {
  let out = RESETS;
  SETTINGS.forEach(({ name, value }, i) => {
    if (applied[`s${i + 1}`] !== null && applied[`s${i + 1}`] !== undefined) {
      out += `SET ${name} = '${value}';\n`;
    }
  });
  return out;
}

/** The first query of a session: facts for the preflight, and strata's settings applied. */
export const PREPARE_SESSION =
  `SELECT pg_catalog.current_setting('server_version_num')::pg_catalog.int4 AS version,
          pg_catalog.pg_is_in_recovery() AS in_recovery,
          pg_catalog.current_setting('default_transaction_read_only') AS default_ro,
          pg_catalog.current_setting('transaction_read_only') AS tx_ro,
          ${SETTINGS_EXPRESSIONS.map((e, i) => `${e} AS s${i + 1}`).join(",\n          ")}`;

/** Try the session advisory lock once: `$1` is the key (int8 text). */
export const TRY_LOCK = "SELECT pg_catalog.pg_try_advisory_lock($1::pg_catalog.int8) AS ok";

/** Release the session advisory lock: `$1` is the key. */
export const UNLOCK = "SELECT pg_catalog.pg_advisory_unlock($1::pg_catalog.int8) AS ok";

/** Who holds the advisory lock with the key's two halves `$1` (high) and `$2` (low). */
export const LOCK_HOLDERS =
  `SELECT a.pid, a.application_name, a.client_addr::pg_catalog.text AS client_addr,
          a.backend_start, a.state
     FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a
       ON a.pid OPERATOR(pg_catalog.=) l.pid
    WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.granted
      AND l.objsubid OPERATOR(pg_catalog.=) 1
      AND l.classid::pg_catalog.int8 OPERATOR(pg_catalog.=) $1::pg_catalog.int8
      AND l.objid::pg_catalog.int8 OPERATOR(pg_catalog.=) $2::pg_catalog.int8
      AND l.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()`;
