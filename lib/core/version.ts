/** strata's own version, recorded in every version-table and log row. */
export const STRATA_VERSION = "0.2.0";
