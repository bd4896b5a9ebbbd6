#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for FUZZ_SECONDS each (default 30), one after the
# other on one core, and exits non-zero if any target crashed (a panic, an out-of-memory, a
# timeout) or any known crash input in fuzz/regressions/<target>/ still crashes.
#
#   scripts/fuzz.sh                  # every target, 30 s each
#   FUZZ_SECONDS=60 scripts/fuzz.sh decode response
#
# Works on the stable toolchain: targets are built without a sanitizer (`--sanitizer none`),
# which needs no nightly; panics and overflow checks (on in cargo-fuzz builds) are what the
# targets look for. FUZZ_SANITIZER=address builds with AddressSanitizer instead, on stable
# through RUSTC_BOOTSTRAP=1 (in its own target dir, fuzz/target/asan; a cold build takes
# about 5 minutes on 2 cores), which also enforces libFuzzer's -malloc_limit_mb.
#
# New inputs go to a scratch directory (FUZZ_SCRATCH, default a temp dir), so the committed
# corpus (fuzz/corpus/<target>/) is read, not changed; FUZZ_UPDATE_CORPUS=1 adds them to it
# (then shrink it with `cargo fuzz cmin <target>` before committing).
# Crash inputs are written to fuzz/artifacts/<target>/ (CI: keep that directory).
# FUZZ_SEED fixes libFuzzer's mutation sequence (0, the default: a random one each run). CI uses
# a fixed seed, so that a run explores the inputs a longer run with that seed has explored, and
# a new finding comes from a session that fuzzes longer, not from a CI run by chance.
# Needs cargo-fuzz: `cargo install cargo-fuzz` (about 2.5 minutes).
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${FUZZ_SECONDS:-30}"
sanitizer="${FUZZ_SANITIZER:-none}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2
  exit 2
fi

fuzz=(cargo fuzz)
args=(--sanitizer "$sanitizer")
if [ "$sanitizer" != none ]; then
  # -Zsanitizer is a nightly flag; RUSTC_BOOTSTRAP lets the stable compiler accept it.
  export RUSTC_BOOTSTRAP=1
  args+=(--target-dir "target/$([ "$sanitizer" = address ] && echo asan || echo "$sanitizer")")
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

echo "=== build (${targets[*]}; sanitizer: $sanitizer)"
"${fuzz[@]}" build "${args[@]}" || exit 2

scratch="${FUZZ_SCRATCH:-$(mktemp -d)}"
failed=()
for t in "${targets[@]}"; do
  if [ -d "regressions/$t" ] && [ -n "$(ls -A "regressions/$t")" ]; then
    echo "=== $t: known crash inputs (regressions/$t)"
    for f in "regressions/$t"/*; do
      # Given a file, libFuzzer runs it once.
      "${fuzz[@]}" run "${args[@]}" "$t" "$f" 2>&1 | grep -E -A1 'panicked at'
      if [ "${PIPESTATUS[0]}" -ne 0 ]; then
        echo "    still crashes: $f"
        failed+=("$f")
      fi
    done
  fi
  echo "=== $t: fuzzing for ${seconds}s"
  mkdir -p "corpus/$t" "$scratch/$t"
  if [ "${FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
    dirs=("corpus/$t")
  else
    dirs=("$scratch/$t" "corpus/$t")
  fi
  # -timeout: one input running 10 s is a hang; -rss_limit_mb: 2 GiB is an unbounded
  # allocation; -max_len: inputs up to 4 KiB (the seeds are smaller).
  "${fuzz[@]}" run "${args[@]}" "$t" "${dirs[@]}" -- \
    -max_total_time="$seconds" -seed="${FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 2>&1 |
    grep -E '^#[0-9]+ +(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec)|panicked at|^attempt|at .*/(src/core|fuzz_targets)/|ERROR|SUMMARY|Test unit written'
  # cargo fuzz's exit status (grep's is 1 when it shows nothing).
  status=${PIPESTATUS[0]}
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
  fi
done

if [ -z "${FUZZ_SCRATCH:-}" ]; then
  rm -rf "$scratch"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "=== crashed: ${failed[*]} (inputs in fuzz/artifacts/<target>/)" >&2
  exit 1
fi
echo "=== no crash in ${targets[*]}"
