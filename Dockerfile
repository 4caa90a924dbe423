# contentful-access as a small container image: the static binary only, running as a non-root
# user. Build: `docker build -t contentful-access .`
# Run:   `docker run --rm -v "$PWD:/work" -e CONTENTFUL_MANAGEMENT_TOKEN contentful-access plan -c access.yaml`
#
# Stage 1 builds a statically linked (musl) release binary; Alpine's Rust targets musl natively,
# so the same file builds for amd64 and arm64 (`docker buildx build --platform linux/arm64 .`).
FROM rust:1.88-alpine AS build
# A C compiler and musl headers for the `ring` crate (rustls' cryptography); nothing else: TLS is
# rustls, so no OpenSSL.
RUN apk add --no-cache musl-dev gcc
WORKDIR /src
# Everything .dockerignore lets through: the manifest declares the tests and the benchmark, and
# the library includes files from examples/.
COPY . .
RUN cargo build --release --locked --bin contentful-access \
 && cp target/release/contentful-access /contentful-access

# Stage 2: no shell, no package manager, no libc needed (the binary is static); CA certificates
# are included (rustls uses its own webpki roots anyway). `nonroot` is uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /contentful-access /usr/local/bin/contentful-access
WORKDIR /work
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/contentful-access"]
CMD ["--help"]
