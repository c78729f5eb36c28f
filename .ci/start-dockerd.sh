#!/usr/bin/env bash
# Starts dockerd in the background unless an engine already answers.
set -euo pipefail
if docker info >/dev/null 2>&1; then echo "[setup] docker engine already running"; exit 0; fi
dockerd_bin=$(command -v dockerd || echo /usr/sbin/dockerd)
echo "[setup] starting $dockerd_bin"
nohup "$dockerd_bin" --storage-driver=overlay2 >/var/log/kyozo-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then echo "[setup] docker engine up"; exit 0; fi
  sleep 1
done
echo "[setup] dockerd did not answer within 60 s; last log lines:" >&2
tail -n 30 /var/log/kyozo-dockerd.log >&2
exit 1
