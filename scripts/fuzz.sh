#!/usr/bin/env bash
# Fuzzes the kiosk's parsers with cargo-fuzz (libFuzzer, nightly Rust).
#
#   scripts/fuzz.sh                   every target in turn, 60 s each
#   scripts/fuzz.sh TARGET [SECONDS]  one target (default 60 s)
#   scripts/fuzz.sh all SECONDS       every target in turn, SECONDS each
#
# Targets (fuzz/fuzz_targets/): sam_reply, card_text, escpos, catalog_envelope,
# central_kiosk, central_sim. The corpus grows in fuzz/corpus/TARGET (git-ignored), seeded
# from fuzz/seeds/TARGET; a crash is saved in fuzz/artifacts/TARGET/ and replayed with
#   cargo +nightly fuzz run -s none TARGET fuzz/artifacts/TARGET/crash-...
# Every crash becomes a regression test in the crate that owns the parser.
#
# Environment: FUZZ_TOOLCHAIN (default nightly), FUZZ_SANITIZER (default none: the parsers
# are safe Rust, and a sanitizer doubles the build; use `address` to also check C code).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(sam_reply card_text escpos catalog_envelope central_kiosk central_sim)
target="${1:-all}"
seconds="${2:-60}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
sanitizer="${FUZZ_SANITIZER:-none}"

if [[ ! "$seconds" =~ ^[0-9]+$ ]]; then
  echo "fuzz: SECONDS must be a whole number, got '$seconds'" >&2
  exit 2
fi
if [[ "$target" == all ]]; then
  run=("${TARGETS[@]}")
elif [[ " ${TARGETS[*]} " == *" $target "* ]]; then
  run=("$target")
else
  echo "fuzz: unknown target '$target'; one of: all ${TARGETS[*]}" >&2
  exit 2
fi

rustup toolchain list | grep -q "^$toolchain" || rustup toolchain install "$toolchain" --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

cd fuzz
# Many codegen units: the fuzz crate pulls in the whole kiosk (Slint, tract), which at
# cargo-fuzz's default of one unit takes far longer to build than to fuzz.
flags=(--sanitizer "$sanitizer" --codegen-units 16)
if [[ ${#run[@]} -eq 1 ]]; then
  cargo "+$toolchain" fuzz build "${flags[@]}" "${run[0]}"
else
  cargo "+$toolchain" fuzz build "${flags[@]}"
fi

# The targets' scratch files (the platform simulator's database) go to a folder removed at
# the end, and so do the logs.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

failed=()
for t in "${run[@]}"; do
  mkdir -p "corpus/$t"
  dirs=("corpus/$t")
  [[ -d "seeds/$t" ]] && dirs+=("seeds/$t")
  echo "fuzz: $t for ${seconds}s" >&2
  log="$scratch/$t.log"
  if TMPDIR="$scratch" cargo "+$toolchain" fuzz run "${flags[@]}" "$t" "${dirs[@]}" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 2>"$log"; then
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
    cov=$(grep -E '^#[0-9]+.*cov:' "$log" | tail -1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
    echo "fuzz: $t ok: ${runs} runs, coverage ${cov:-?} edges, no crash" >&2
  else
    failed+=("$t")
    tail -40 "$log" >&2
    echo "fuzz: $t FAILED; the input is in fuzz/artifacts/$t/" >&2
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: crashes in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all of ${run[*]} ran ${seconds}s each without a crash" >&2
