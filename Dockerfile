# ctscan as a container for array jobs (Kubernetes Indexed Jobs, AWS Batch
# array jobs): see "Sweeping an organization" in README.md.
#
#   docker build -t ctscan .
#   docker run --rm ctscan ctscan --help

# Build stage: the full toolchain (ctscan needs Rust 1.88 or later).
FROM rust:1.92-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p ctscan --bin ctscan \
 && install -m 0755 target/release/ctscan /usr/local/bin/ctscan

# Runtime stage: glibc, CA certificates (the S3 client trusts the system's
# roots) and a shell, so a job can spell a per-index output folder
# (`--out /results/shard-$AWS_BATCH_JOB_ARRAY_INDEX`). The release profile
# strips the binary already.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /work --create-home ctscan
COPY --from=build /usr/local/bin/ctscan /usr/local/bin/ctscan
USER ctscan
WORKDIR /work
# Matched events spill to sorted runs in $TMPDIR on large sweeps.
ENV TMPDIR=/tmp
# No entry point: Kubernetes gives `command: [ctscan]`, AWS Batch a shell line.
CMD ["ctscan", "--help"]
