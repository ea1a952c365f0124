#!/usr/bin/env bash
# Benchmarks of webhook-harness against its own reference receiver, on loopback.
# Prints medians of several runs. Usage: bench/bench.sh [fuzz|run|all]   (RUNS=5 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
runs=${RUNS:-5}

cargo build --release --quiet
bin=target/release/webhook-harness

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)] }'; }

echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"

if [[ $what == fuzz || $what == all ]]; then
  # Cases per second of `fuzz` against the built-in receiver (shrinking excluded; none happens there).
  rates=$(for seed in $(seq 1 "$runs"); do
    "$bin" fuzz --seed "$seed" --cases 5000 --jobs 8 | tail -n 1 | sed -E 's/.*: ([0-9.]+) cases\/s.*/\1/'
  done)
  echo "fuzz: median $(echo "$rates" | median) cases/s over $runs runs of 5000 cases (all: $(echo $rates))"
  echo "      command: $bin fuzz --seed N --cases 5000 --jobs 8"
fi

if [[ $what == run || $what == all ]]; then
  # Wall time of the whole built-in suite against the built-in receiver.
  to_ms() { awk '{ v = $1; if (v ~ /ms$/) { sub(/ms$/, "", v); print v } else if (v ~ /us$/) { sub(/us$/, "", v); print v / 1000 } else { sub(/s$/, "", v); print v * 1000 } }'; }
  times=$(for _ in $(seq 1 "$runs"); do
    "$bin" run | tail -n 1 | sed -E 's/.* in ([0-9.]+(ms|us|s))$/\1/' | to_ms
  done)
  echo "run: median $(echo "$times" | median) ms for the built-in suite over $runs runs (all: $(echo $times))"
  echo "     command: $bin run"
  times=$(for _ in $(seq 1 "$runs"); do
    "$bin" run --jobs 4 | tail -n 1 | sed -E 's/.* in ([0-9.]+(ms|us|s))$/\1/' | to_ms
  done)
  echo "run --jobs 4: median $(echo "$times" | median) ms (all: $(echo $times))"
fi
