#!/usr/bin/env bash
# Fills the fuzz corpora (not committed) with their seed inputs:
# - fuzz/corpus/inbound_parse/: every .eml of the real-world samples in tests/corpus/ and the
#   small hand-made hostile seeds in fuzz/seeds/;
# - fuzz/corpus/smtp_session/: the hand-made SMTP conversations in fuzz/seeds-smtp/.
# Run it once before the first `cargo +nightly fuzz run …`; running it again only adds what
# is missing.
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
sessions=corpus/smtp_session
mkdir -p "$sessions"
cp -n seeds-smtp/* "$sessions/"
echo "$(find "$sessions" -type f | wc -l) seed inputs in fuzz/$sessions"
