#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3) offline-safe into $KYOZO_CODE_SERVER_DIR,
# outside the project's own dependencies. Its postinstall downloads ripgrep, so scripts are skipped
# and the native modules are rebuilt here against Debian's ripgrep.
set -euo pipefail
dir=${KYOZO_CODE_SERVER_DIR:-/opt/kyozo-code-server}
cs="$dir/node_modules/code-server"
if [ -f "$dir/.ready" ] && [ -f "$dir/node_modules/argon2/lib/binding/napi-v3/argon2.node" ]; then echo "[setup] code-server ready in $dir"; exit 0; fi
mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || echo '{"name":"kyozo-code-server","private":true}' > package.json
echo "[setup] installing code-server into $dir"
npm install --no-audit --no-fund --ignore-scripts code-server@4.100.3 >/dev/null
cd "$cs/lib/vscode"
npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
npm_config_yes=true npm rebuild >/dev/null 2>&1 || npm_config_yes=true npm rebuild
ln -sfn node_modules node_modules.asar
cd extensions
npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null
# argon2 is hoisted next to code-server: rebuild it from the install root, where npm finds it.
cd "$dir"
npm_config_yes=true npm rebuild argon2 >/dev/null
[ -f node_modules/argon2/lib/binding/napi-v3/argon2.node ] || { echo "[setup] argon2 binding missing after rebuild" >&2; exit 1; }
touch "$dir/.ready"
echo "[setup] code-server installed"
