#!/usr/bin/env bash
# Stages the sync server's runtime files and builds its image. Usage:
#   [BASE_IMAGE=node:20-bookworm-slim] [TAG=kyozo/sync-server] bash sync-server/build-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_IMAGE=${BASE_IMAGE:-node:20-bookworm-slim}
TAG=${TAG:-kyozo/sync-server}
# The server and its two worker threads, which it starts from files beside it (as esbuild.mjs builds them).
npx esbuild sync-server=sync-server/src/main.ts sync-sqlite-writer=sync-server/src/store/sqlite-writer-thread.ts \
  sync-frame-verifier=sync-server/src/frame-verifier-thread.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:better-sqlite3 --outdir=dist --log-level=warning
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/app/node_modules/better-sqlite3/build/Release"
cp dist/sync-server.js dist/sync-sqlite-writer.js dist/sync-frame-verifier.js "$stage/app/"
cp -r node_modules/better-sqlite3/lib node_modules/better-sqlite3/package.json "$stage/app/node_modules/better-sqlite3/"
cp node_modules/better-sqlite3/build/Release/better_sqlite3.node "$stage/app/node_modules/better-sqlite3/build/Release/"
for dep in bindings file-uri-to-path; do cp -r "node_modules/$dep" "$stage/app/node_modules/"; done
cp sync-server/Dockerfile "$stage/Dockerfile"
docker build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$TAG" "$stage"
