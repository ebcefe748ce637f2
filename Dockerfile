# skyglue in a container: the binary and the shipped policies, run as a
# non-root user. Build: `docker build -t skyglue .` (add
# `--build-arg PROFILE=dist` for the smaller binary).
# By default it runs `skyglue schedule` (the [[schedule]] entries of
# $SKYGLUE_CONFIG); a one-shot job overrides the command, e.g.
# `docker run skyglue run queries/ecr_cleanup.sql --format json`.
# Recipes: docs/eventbridge-ecs.md, docs/kubernetes-cronjob.md, docs/github-actions.md.

FROM rust:1.94-bookworm AS build
# `--build-arg PROFILE=dist` builds the smaller binary (62 MB against 171);
# its final link needs about 7 GiB of memory: see docs/guide/install.md, Build.
ARG PROFILE=release
WORKDIR /src
COPY . .
RUN cargo build --profile "$PROFILE" --locked -p skyglue \
    && cp "target/$PROFILE/skyglue" /skyglue

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/skyglue skyglue
COPY --from=build /skyglue /usr/local/bin/skyglue
COPY queries/ /app/queries/
WORKDIR /app
# The journal, schedule state and lock files go to /home/skyglue/.local/state/skyglue
# (or [state] dir / $SKYGLUE_STATE_DIR): mount a volume there to keep them.
USER skyglue
ENTRYPOINT ["skyglue"]
CMD ["schedule"]
