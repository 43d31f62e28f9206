# strata in a container: build the single executable with the official Deno
# image, run it on a minimal base that holds only the binary.
#
#   docker build -t strata .
#   docker run --rm -v "$PWD/migrations:/migrations:ro" -e DATABASE_URL=postgres://... strata upgrade

FROM denoland/deno:2.9.6 AS build
WORKDIR /src
COPY deno.json deno.lock main.ts ./
COPY lib ./lib
COPY scripts/compile.ts ./scripts/compile.ts
RUN deno task compile

# glibc and libgcc are all a Deno executable needs; no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/dist/strata /usr/local/bin/strata
# Mount or copy migrations here; strata reads STRATA_DIR.
COPY --chown=nonroot:nonroot migrations /migrations
ENV STRATA_DIR=/migrations
WORKDIR /migrations
USER nonroot
ENTRYPOINT ["strata"]
CMD ["--help"]
