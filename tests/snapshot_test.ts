/**
 * db/snapshot.ts on the server: the data digest reads every table by its
 * own quoted name, whatever characters its schema and name hold.
 */

import assert from "node:assert/strict";
import { createWireDb } from "../lib/db/wire.ts";
import { parseDatabaseUrl } from "../lib/core/database_url.ts";
import { takeSnapshot } from "../lib/db/snapshot.ts";
import { serverTest } from "./_helpers.ts";

const TABLE = { schema: "public", name: "strata_migrations" };

serverTest(
  "takeSnapshot({ data }) digests tables whose schema or name holds a dot or a quote",
  async (t) => {
    await t.sql.unsafe(`
    CREATE SCHEMA "we.ird";
    CREATE TABLE "we.ird"."t.x" (id int);
    INSERT INTO "we.ird"."t.x" VALUES (1), (2);
    CREATE TABLE public."it's" (id int);
    INSERT INTO public."it's" VALUES (3);
    CREATE TABLE public.strata_migrations (id int);`);
    const db = createWireDb(parseDatabaseUrl(t.url, "test"));
    try {
      const snap = await takeSnapshot(db, TABLE, { data: true });
      assert.match(snap["data we.ird.t.x"], /^2 rows [0-9a-f]{32}$/);
      assert.match(snap["data public.it's"], /^1 rows [0-9a-f]{32}$/);
      assert.equal(
        snap["data public.strata_migrations"],
        undefined,
        "strata's own table is left out",
      );
      const again = await takeSnapshot(db, TABLE, { data: true });
      assert.deepEqual(again, snap);
      await t.sql.unsafe(`INSERT INTO "we.ird"."t.x" VALUES (3)`);
      const changed = await takeSnapshot(db, TABLE, { data: true });
      assert.match(changed["data we.ird.t.x"], /^3 rows /);
    } finally {
      await db.close();
    }
  },
);
