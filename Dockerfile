# syntax=docker/dockerfile:1
# Multi-stage build: compile in the Rust image, run from a slim Debian with only the binary.

FROM rust:1.95-bookworm AS build
WORKDIR /src
# Build the dependencies first, so source changes don't rebuild them.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && mkdir -p templates migrations/sqlite migrations/postgres \
    && cargo build --release --locked || true
COPY src src
COPY templates templates
COPY migrations migrations
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin hundred

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/hundred --create-home hundred
COPY --from=build /src/target/release/hundred /usr/local/bin/hundred
USER hundred
WORKDIR /var/lib/hundred
ENV HUNDRED_LISTEN=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/var/lib/hundred/data"]
ENTRYPOINT ["hundred"]
CMD ["serve"]
