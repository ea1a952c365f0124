#!/usr/bin/env bash
# Benchmarks of webhook-harness against its own reference receiver, on loopback.
# Prints medians of several runs. Usage: bench/bench.sh [fuzz|run|load|memory|silent|proxy|all]   (RUNS=5 by default)
# `load` compares `webhook-harness load` with oha (installed with `cargo install oha` if missing).
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

json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
receiver_pid=""
start_receiver() {
  [[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null || true
  port=$(free_port)
  "$bin" receive --port "$port" >/dev/null 2>&1 &
  receiver_pid=$!
  for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  url="http://127.0.0.1:$port/webhook"
}
trap '[[ -n $receiver_pid ]] && kill $receiver_pid 2>/dev/null || true' EXIT

if [[ $what == load || $what == all ]]; then
  command -v oha >/dev/null || cargo install oha --locked --quiet
  n=${DELIVERIES:-100000}
  tmp=$(mktemp -d)
  "$bin" payload generation --webhook-id wh_bench --show-secrets > "$tmp/body.json"
  key=$(grep -o '"gen_[A-Za-z0-9]*"' "$tmp/body.json" | head -n 1 | tr -d '"')
  ours=(); theirs=(); ours_p99=(); theirs_p99=()
  for i in $(seq 1 "$runs"); do
    # A fresh receiver for each tool, so neither inherits the other's stored keys.
    start_receiver
    "$bin" load --url "$url" --webhook-id wh_bench --concurrency 32 --deliveries "$n" --mix generation=100 \
      --sizes small --duplicates 0% --report-json "$tmp/load.json" >/dev/null 2>&1
    ours+=("$(json_field "$tmp/load.json" 'round(d["requests_per_second"])')")
    ours_p99+=("$(json_field "$tmp/load.json" 'd["latency"]["p99_us"] / 1000')")
    start_receiver
    oha -n "$n" -c 32 -m POST -D "$tmp/body.json" --no-tui --output-format json \
      -H 'Content-Type: application/json' -H 'User-Agent: inference.net-Webhook/1.0' \
      -H 'X-Inference-Event: generation.completed' -H 'X-Inference-Webhook-ID: wh_bench' \
      -H "X-Inference-Generation-ID: $key" "$url" > "$tmp/oha.json" 2>/dev/null
    theirs+=("$(json_field "$tmp/oha.json" 'round(d["summary"]["requestsPerSec"])')")
    theirs_p99+=("$(json_field "$tmp/oha.json" 'round(d["latencyPercentiles"]["p99"] * 1000, 3)')")
  done
  m_ours=$(printf '%s\n' "${ours[@]}" | median); m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
  echo "load: webhook-harness median $m_ours req/s, p99 $(printf '%s\n' "${ours_p99[@]}" | median) ms (all: ${ours[*]})"
  echo "      oha             median $m_theirs req/s, p99 $(printf '%s\n' "${theirs_p99[@]}" | median) ms (all: ${theirs[*]})"
  echo "      ratio webhook-harness / oha: $(python3 -c "print(round($m_ours / $m_theirs, 2))")"
  echo "      commands: $bin load --url URL --concurrency 32 --deliveries $n --mix generation=100 --sizes small --duplicates 0%"
  echo "                oha -n $n -c 32 -m POST -D body.json -H (the five contract headers) URL   (fresh receiver for each)"
  rm -rf "$tmp"
fi

if [[ $what == memory || $what == all ]]; then
  # Peak memory of the load generator for 10x more deliveries: flat means no per-request record.
  for n in 100000 1000000; do
    start_receiver
    rss=$("$bin" load --url "$url" --deliveries "$n" --concurrency 32 2>/dev/null | sed -n 's/.*memory *peak \([0-9.]*\) MiB.*/\1/p')
    echo "memory: $n deliveries, peak $rss MiB resident (load generator)"
  done
fi

if [[ $what == silent || $what == all ]]; then
  # How long each command takes at its default settings against a receiver
  # that accepts connections, reads, and never answers (a deadlocked handler).
  port=$(free_port)
  python3 - "$port" <<'PY' &
import socket, sys, threading
server = socket.socket(); server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1]))); server.listen(1024)
held = []
def hold(conn):
    held.append(conn)
    try:
        while conn.recv(65536): pass
    except OSError: pass
while True:
    conn, _ = server.accept()
    threading.Thread(target=hold, args=(conn,), daemon=True).start()
PY
  silent_pid=$!
  for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  silent="http://127.0.0.1:$port/webhook"
  for cmd in "run" "fuzz" "load" "load --duration 5s" "load --deliveries 1000 --timeout 2s" "fuzz --timeout 1s --cases 200"; do
    start=$(date +%s.%N)
    set +e; $bin $cmd --url "$silent" >/dev/null 2>&1; code=$?; set -e
    end=$(date +%s.%N)
    echo "silent receiver: webhook-harness $cmd took $(python3 -c "print(round($end - $start, 1))") s (exit $code)"
  done
  kill "$silent_pid" 2>/dev/null || true
fi

if [[ $what == proxy || $what == all ]]; then
  # What the proxy adds: median latency of one delivery at a time, direct and
  # through `proxy` (without and with --record); and its peak memory
  # forwarding and recording a 10 MB body.
  start_receiver
  tmp=$(mktemp -d)
  start_proxy() {
    pport=$(free_port)
    /usr/bin/time -f '%M' -o "$tmp/rss" "$bin" proxy --listen "127.0.0.1:$pport" --to "$url" "$@" >/dev/null 2>&1 &
    proxy_pid=$!
    for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$pport") 2>/dev/null && break; sleep 0.1; done
  }
  # /usr/bin/time ignores SIGINT: interrupt the proxy it runs.
  stop_proxy() { pkill -INT -P "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true; }
  p50() { "$bin" load --url "$1" --concurrency 1 --deliveries 2000 --duplicates 0% --report-json "$tmp/l.json" >/dev/null 2>&1; json_field "$tmp/l.json" 'd["latency"]["p50_us"]'; }
  for record in no yes; do
    if [[ $record == yes ]]; then start_proxy --record "$tmp/rec"; else start_proxy; fi
    direct=(); through=()
    for _ in $(seq 1 "$runs"); do
      direct+=("$(p50 "$url")"); through+=("$(p50 "http://127.0.0.1:$pport/webhook")")
    done
    m_direct=$(printf '%s\n' "${direct[@]}" | median); m_through=$(printf '%s\n' "${through[@]}" | median)
    echo "proxy (recording: $record): median p50 direct $m_direct us, through the proxy $m_through us: adds $(python3 -c "print(round($m_through - $m_direct))") us per delivery"
    stop_proxy
  done
  python3 -c "
import json; pad = 'x' * (10_000_000 - 200)
open('$tmp/big.json', 'w').write(json.dumps({'event': 'generation.completed', 'webhookId': 'wh', 'data': {'id': 'gen_big', 'pad': pad}}))"
  start_proxy --record "$tmp/big"
  curl -s -o /dev/null -X POST "http://127.0.0.1:$pport/webhook" -H 'Content-Type: application/json' \
    -H 'X-Inference-Event: generation.completed' -H 'X-Inference-Webhook-ID: wh' -H 'X-Inference-Generation-ID: gen_big' \
    --data-binary @"$tmp/big.json"
  stop_proxy
  big_rss=$(cat "$tmp/rss")
  start_proxy; stop_proxy
  echo "proxy: peak $(( big_rss / 1024 )) MiB resident forwarding and recording a 10 MB body; $(( $(cat "$tmp/rss") / 1024 )) MiB idle"
  rm -rf "$tmp"
fi
