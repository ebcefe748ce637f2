# skyglue in a container: the binary and the shipped policies, run as a
# non-root user. Build: `docker build -t skyglue .`
# By default it runs `skyglue schedule` (the [[schedule]] entries of
# $SKYGLUE_CONFIG); a one-shot job overrides the command, e.g.
# `docker run skyglue run queries/ecr_cleanup.sql --format json`.
# Recipes: docs/eventbridge-ecs.md, docs/kubernetes-cronjob.md, docs/github-actions.md.

FROM rust:1.94-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p skyglue

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/skyglue skyglue
COPY --from=build /src/target/release/skyglue /usr/local/bin/skyglue
COPY queries/ /app/queries/
WORKDIR /app
# The journal, schedule state and lock files go to /home/skyglue/.local/state/skyglue
# (or [state] dir / $SKYGLUE_STATE_DIR): mount a volume there to keep them.
USER skyglue
ENTRYPOINT ["skyglue"]
CMD ["schedule"]
