#!/usr/bin/env bash
# Installs the machine-level parts the tests talk to for real: Docker engine, Chromium, code-server, and the Debian
# Python, Go and Rust packages test/support/runtime-base-images.ts assembles the generated images' toolchains from.
# nginx: its binary makes the local gateway image (test/support/gateway-image.ts).
# postgresql, redis-server: the sync server's several-instance tests and benchmark start private servers from these
# binaries in temporary folders (test/support/pg-redis.ts); no system service is needed.
# Idempotent: every step checks before it acts, so developers can run it too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

need_pkgs=()
for p in docker.io docker-compose chromium busybox-static ripgrep git ca-certificates neovim \
         libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config \
         python3.11 python3-venv tzdata python3-flask python3-gunicorn python3-uvicorn python3-fastapi \
         python3-django python3-whitenoise golang-go cargo docker-registry apache2-utils nginx \
         golang-docker-credential-helpers pass \
         postgresql redis-server; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "[setup] apt-get install ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

bash "$here/start-dockerd.sh"
bash "$here/install-code-server.sh"
