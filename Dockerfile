# strata in a container. The image holds only the program: no migrations. Give it yours by
# mounting them at /migrations, or in a derived image (README: Containers):
#
#   docker build -t strata .                       # the compiled executable (needs denort)
#   docker build -t strata --target bundle .       # dist/strata.js on the official Deno image
#   docker run --rm -v "$PWD/migrations:/migrations:ro" -e DATABASE_URL=postgres://... strata upgrade
#
# An empty or missing /migrations is an error (exit 2), never "nothing to do".

FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY lib ./lib
COPY scripts/compile.ts scripts/bundle.ts scripts/strata_command.ts ./scripts/

# Only the bundle image builds the bundle; the default (binary) image never runs this stage.
FROM build AS build-bundle
RUN deno task bundle

# strata as one JavaScript file on the official Deno image, for hosts where `deno compile`
# cannot get its runtime. PGlite (pglite: URLs) is fetched from npm on first use.
FROM denoland/deno:2.9.6 AS bundle
COPY --from=build-bundle /src/dist/strata.js /opt/strata/strata.js
ENV STRATA_DIR=/migrations
WORKDIR /migrations
USER deno
ENTRYPOINT ["deno", "run", "--quiet", "--no-check", "--v8-flags=--max-semi-space-size=2", "--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-run=alembic,pg_dump", "/opt/strata/strata.js"]
CMD ["--help"]

FROM build AS compile
RUN deno task compile

# The default: the compiled executable on a minimal base. glibc and libgcc are all a Deno
# executable needs; no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot AS binary
COPY --from=compile /src/dist/strata /usr/local/bin/strata
ENV STRATA_DIR=/migrations
WORKDIR /migrations
USER nonroot
ENTRYPOINT ["strata"]
CMD ["--help"]
