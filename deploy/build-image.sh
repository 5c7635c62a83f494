#!/usr/bin/env bash
# Builds the facade's image: a static, stripped, version-stamped binary and the host's CA
# certificates, in a build context of their own, then podman (or docker) build with the
# Containerfile. Usage: deploy/build-image.sh [image name, default koodrive-facade:<version>]
set -euo pipefail
cd "$(dirname "$0")/.."

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
image="${1:-koodrive-facade:$version}"
engine="${CONTAINER_ENGINE:-$(command -v podman || command -v docker)}"
certs="${CA_CERTIFICATES:-/etc/ssl/certs/ca-certificates.crt}"
[ -s "$certs" ] || { echo "no CA certificates at $certs (Debian package ca-certificates)" >&2; exit 1; }

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags "-s -w -X main.version=$version" -o "$context/facade" .
cp "$certs" "$context/ca-certificates.crt"
cp Containerfile "$context/Containerfile"
"$engine" build --quiet --build-arg "VERSION=$version" -t "$image" -f "$context/Containerfile" "$context" >/dev/null
echo "$image"
