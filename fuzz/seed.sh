#!/usr/bin/env bash
# Fills fuzz/corpus/inbound_parse/ (not committed) with the seed inputs: every .eml of the
# real-world samples in tests/corpus/ and the small hand-made hostile seeds in fuzz/seeds/.
# Run it once before the first `cargo +nightly fuzz run inbound_parse`; running it again
# only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")"
corpus=corpus/inbound_parse
mkdir -p "$corpus"
find ../tests/corpus -type f -name '*.eml' -print0 |
  while IFS= read -r -d '' file; do
    name=$(basename "$(dirname "$file")")-$(basename "$file")
    cp -n "$file" "$corpus/$name"
  done
cp -n seeds/* "$corpus/"
echo "$(find "$corpus" -type f | wc -l) seed inputs in fuzz/$corpus"
