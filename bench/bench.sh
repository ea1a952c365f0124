#!/usr/bin/env bash
# Benchmarks of webhook-harness against its own reference receiver, on loopback.
# Prints medians of several runs.
# Usage: bench/bench.sh [build|library|startup|fuzz|run|load|nginx|memory|silent|proxy|sequences|durability|install|all]   (RUNS=5 by default)
# `build` times a release build from a fresh clone (BASE=REV also builds REV, side by side).
# `load` compares `webhook-harness load` with oha against the reference receiver;
# `nginx` compares it with wrk and oha against nginx answering 200 from one worker
# (nginx and wrk installed with apt-get, oha with `cargo install oha`, when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
runs=${RUNS:-5}

cargo build --release --quiet
bin=target/release/webhook-harness

json_field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else print v[int((NR + 1) / 2)] }'; }

echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ //')"

if [[ $what == build || $what == all ]]; then
  # `cargo build --release --locked` from a fresh clone, the crates already
  # downloaded (cargo fetch first), its own target directory; the ten
  # longest units from --timings; the binary's size.
  build_from_clone() {
    local rev=$1 dir
    dir=$(mktemp -d)
    git clone -q . "$dir/src" && git -C "$dir/src" checkout -q "$rev"
    (cd "$dir/src" && cargo fetch --locked -q)
    local start end
    start=$(date +%s.%N)
    (cd "$dir/src" && cargo build --release --locked --timings --quiet 2>/dev/null)
    end=$(date +%s.%N)
    echo "build ($rev, $(git rev-parse --short "$rev")): $(python3 -c "print(round($end - $start))") s from a fresh clone; binary $(python3 -c "import os; print(round(os.path.getsize('$dir/src/target/release/webhook-harness') / 1e6, 1))") MB"
    python3 - "$dir/src/target/cargo-timings/cargo-timing.html" <<'PY'
import json, re, sys
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(sys.argv[1]).read(), re.S).group(1))
units.sort(key=lambda u: -u["duration"])
print("  longest units: " + ", ".join(f"{u['name']}{' (build script)' if 'build-script' in u['target'] else ''} {u['duration']:.0f} s" for u in units[:10]))
print(f"  {len(units)} units, {sum(u['duration'] for u in units):.0f} s of unit time in all (2 cores at once)")
PY
    [[ -n ${KEEP_TIMINGS:-} ]] && cp "$dir/src/target/cargo-timings/cargo-timing.html" "$KEEP_TIMINGS"
    rm -rf "$dir"
  }
  build_from_clone HEAD
  [[ -n ${BASE:-} ]] && build_from_clone "$BASE"
fi

if [[ $what == library || $what == all ]]; then
  # What a Rust receiver's tests compile: the library alone
  # (--no-default-features) against the whole tool, each a release build
  # from a fresh clone with the crates downloaded, in its own target folder.
  dir=$(mktemp -d)
  git clone -q . "$dir/src" && (cd "$dir/src" && cargo fetch --locked -q)
  for build in "--lib --no-default-features" ""; do
    rm -rf "$dir/src/target"
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    (cd "$dir/src" && cargo build --release --locked --quiet $build 2>/dev/null)
    end=$(date +%s.%N)
    units=$(cd "$dir/src" && ls target/release/deps/*.rlib | wc -l)
    echo "build ${build:-(the whole tool)}: $(python3 -c "print(round($end - $start))") s from a fresh clone, $units libraries"
  done
  rm -rf "$dir"
fi

if [[ $what == startup || $what == all ]]; then
  # Everyday commands: --version and list (hyperfine, installed with apt-get when missing).
  command -v hyperfine >/dev/null || apt-get install -y -q hyperfine >/dev/null
  for cmd in "--version" "list"; do
    hyperfine -N --warmup 5 --runs 100 --export-json /tmp/wh-startup.json "$bin $cmd" >/dev/null 2>&1
    echo "startup: webhook-harness $cmd: median $(json_field /tmp/wh-startup.json 'round(d["results"][0]["median"] * 1000, 1)') ms over 100 runs"
  done
  rm -f /tmp/wh-startup.json
  echo "size: $bin is $(python3 -c "import os; print(round(os.path.getsize('$bin') / 1e6, 1))") MB"
fi

if [[ $what == fuzz || $what == all ]]; then
  # Cases per second of `fuzz` against the built-in receiver (shrinking excluded; none happens there).
  rates=$(for seed in $(seq 1 "$runs"); do
    "$bin" fuzz --seed "$seed" --cases 5000 --jobs 8 | tail -n 1 | sed -E 's/.*: ([0-9.]+) cases\/s.*/\1/'
  done)
  echo "fuzz: median $(echo "$rates" | median) cases/s over $runs runs of 5000 cases (all: $(echo $rates))"
  echo "      command: $bin fuzz --seed N --cases 5000 --jobs 8"
fi

if [[ $what == run || $what == all ]]; then
  # Wall time of the whole built-in suite against the built-in receiver
  # (process start to exit, hyperfine), one case at a time and four at once.
  command -v hyperfine >/dev/null || apt-get install -y -q hyperfine >/dev/null
  for cmd in "run" "run --jobs 4"; do
    hyperfine -N --warmup 3 --runs 30 --export-json /tmp/wh-run.json "$bin $cmd" >/dev/null 2>&1
    echo "run: webhook-harness $cmd: median $(json_field /tmp/wh-run.json 'round(d["results"][0]["median"] * 1000, 1)') ms wall over 30 runs (min $(json_field /tmp/wh-run.json 'round(d["results"][0]["min"] * 1000, 1)'), max $(json_field /tmp/wh-run.json 'round(d["results"][0]["max"] * 1000, 1)'))"
  done
  rm -f /tmp/wh-run.json
fi

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

if [[ $what == nginx || $what == all ]]; then
  # The ceiling: nginx answering 200 from one worker (keep-alive without a
  # request limit), the same 1.5 KB body and five contract headers, 32
  # connections, 5 s; wrk, oha and webhook-harness load interleaved, RUNS=3
  # by default. load still reads and checks every answer and writes a fresh
  # key into every delivery; wrk and oha send one body over and over.
  command -v nginx >/dev/null || apt-get install -y -q nginx-light >/dev/null
  command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
  command -v oha >/dev/null || cargo install oha --locked --quiet
  nruns=${RUNS_NGINX:-3}
  tmp=$(mktemp -d)
  nport=$(free_port)
  mkdir -p "$tmp/logs"
  cat > "$tmp/nginx.conf" <<NGINX
worker_processes 1;
error_log $tmp/logs/error.log;
pid $tmp/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy; fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;
  keepalive_requests 100000000;
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:$nport;
    location / { default_type application/json; return 200 '{"success":true}'; }
  }
}
NGINX
  nginx -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' &
  nginx_pid=$!
  for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$nport") 2>/dev/null && break; sleep 0.1; done
  nurl="http://127.0.0.1:$nport/webhook"
  "$bin" payload generation --webhook-id wh_bench --show-secrets > "$tmp/body.json"
  key=$(grep -o '"gen_[A-Za-z0-9]*"' "$tmp/body.json" | head -n 1 | tr -d '"')
  python3 - "$tmp/body.json" "$key" > "$tmp/post.lua" <<'PY'
import json, sys
body = open(sys.argv[1]).read()
print("wrk.method = 'POST'")
print("wrk.body = " + json.dumps(body))
for name, value in [("Content-Type", "application/json"), ("User-Agent", "inference.net-Webhook/1.0"),
                    ("X-Inference-Event", "generation.completed"), ("X-Inference-Webhook-ID", "wh_bench"),
                    ("X-Inference-Generation-ID", sys.argv[2])]:
    print(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
PY
  w=(); o=(); l=()
  for _ in $(seq 1 "$nruns"); do
    w+=("$(wrk -t 2 -c 32 -d 5s -s "$tmp/post.lua" "$nurl" 2>/dev/null | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')")
    oha -z 5s -c 32 -m POST -D "$tmp/body.json" --no-tui --output-format json \
      -H 'Content-Type: application/json' -H 'User-Agent: inference.net-Webhook/1.0' \
      -H 'X-Inference-Event: generation.completed' -H 'X-Inference-Webhook-ID: wh_bench' \
      -H "X-Inference-Generation-ID: $key" "$nurl" > "$tmp/oha.json" 2>/dev/null
    o+=("$(json_field "$tmp/oha.json" 'round(d["summary"]["requestsPerSec"])')")
    "$bin" load --url "$nurl" --webhook-id wh_bench --concurrency 32 --duration 5s --mix generation=100 \
      --sizes small --duplicates 0% --report-json "$tmp/load.json" >/dev/null 2>&1 || true
    l+=("$(json_field "$tmp/load.json" 'round(d["requests_per_second"])')")
  done
  kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true
  ratios() { python3 -c "
import sys; a = [float(x) for x in sys.argv[1].split()]; b = [float(x) for x in sys.argv[2].split()]
r = sorted(x / y for x, y in zip(a, b)); print(f'{r[len(r) // 2]:.2f} (range {r[0]:.2f}-{r[-1]:.2f})')" "$1" "$2"; }
  echo "nginx: body $(wc -c < "$tmp/body.json") bytes, 5 headers, c=32, 5 s, $nruns interleaved runs each"
  echo "       wrk              median $(printf '%s\n' "${w[@]}" | median) req/s (all: ${w[*]})"
  echo "       oha              median $(printf '%s\n' "${o[@]}" | median) req/s (all: ${o[*]})"
  echo "       webhook-harness  median $(printf '%s\n' "${l[@]}" | median) req/s (all: ${l[*]})"
  echo "       load / wrk: $(ratios "${l[*]}" "${w[*]}"); load / oha: $(ratios "${l[*]}" "${o[*]}")   (run by run, median and range)"
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

if [[ $what == sequences || $what == all ]]; then
  # How soon `fuzz --sequences` finds each idempotency mistake of the test
  # receivers (broken_receiver): the index of the sequence that failed
  # first, over seeds 1..RUNS, and the wall time to the end of the run
  # (shrinking and the three replays included).
  cargo build --release --quiet --example broken_receiver
  broken=target/release/examples/broken_receiver
  tmp=$(mktemp -d)
  for mistake in dedupe-bounded dedupe-expires racy-dedup "dedupe-in-memory (2 replicas)" "none, memory (restarts)"; do
    found=(); secs=()
    for seed in $(seq 1 "$runs"); do
      rm -rf "$tmp/out" "$tmp"/*.sqlite*
      case $mistake in
        "dedupe-in-memory (2 replicas)") target=(--url http://127.0.0.1:0/webhook --effects-url 'http://127.0.0.1:0/test/effects?key={key}'
            --serve "exec $broken dedupe-in-memory --store $tmp/work.sqlite" --serve-replicas 2) ;;
        "none, memory (restarts)") target=(--url http://127.0.0.1:0/webhook --effects-url 'http://127.0.0.1:0/test/effects?key={key}'
            --serve "exec $broken none") ;;
        *) port=$(free_port)
           PORT=$port "$broken" "$mistake" >/dev/null 2>&1 &
           receiver_pid=$!
           for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
           target=(--url "http://127.0.0.1:$port/webhook" --effects-url "http://127.0.0.1:$port/test/effects?key={key}") ;;
      esac
      start=$(date +%s.%N)
      out=$("$bin" fuzz --sequences --seed "$seed" --webhook-id AhALzdz8S --out "$tmp/out" "${target[@]}" 2>/dev/null || true)
      end=$(date +%s.%N)
      [[ -n $receiver_pid ]] && { kill "$receiver_pid" 2>/dev/null; wait "$receiver_pid" 2>/dev/null || true; receiver_pid=""; }
      n=$(echo "$out" | sed -nE 's/^finding: sequence ([0-9]+) of seed.*/\1/p')
      found+=("${n:-none}"); secs+=("$(python3 -c "print(round($end - $start, 1))")")
    done
    echo "sequences: $mistake: found at sequence $(printf '%s\n' "${found[@]}" | grep -v none | median) (median of $runs seeds; each: ${found[*]}), $(printf '%s\n' "${secs[@]}" | median) s (each: ${secs[*]})"
  done
  echo "           command: $bin fuzz --sequences --seed N (30 sequences of up to 8 operations)"
  rm -rf "$tmp"
fi

if [[ $what == durability || $what == all ]]; then
  # What the durability cases cost: `run --filter durability` against a
  # receiver that takes 1 s to start, two replicas sharing a SQLite file
  # (each case restarts it or sends to both).
  cargo build --release --quiet --example broken_receiver
  tmp=$(mktemp -d)
  times=()
  for _ in $(seq 1 "$runs"); do
    rm -f "$tmp"/*.sqlite*
    start=$(date +%s.%N)
    "$bin" run --filter durability --webhook-id AhALzdz8S --url http://127.0.0.1:0/webhook \
      --effects-url 'http://127.0.0.1:0/test/effects?key={key}' --serve-replicas 2 \
      --serve "sleep 1; exec target/release/examples/broken_receiver none --store $tmp/h.sqlite" >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(python3 -c "print(round($end - $start, 2))")")
  done
  echo "durability: 4 cases, 2 replicas starting in 1 s each: median $(printf '%s\n' "${times[@]}" | median) s wall (each: ${times[*]})"
  rm -rf "$tmp"
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

if [[ $what == install || $what == all ]]; then
  # The packages as receiver authors install them, from local files: the
  # release wheel (maturin) into a fresh virtual environment, and the npm
  # tarballs into a fresh project; their sizes, the install times (venv
  # creation and npm init apart), and the time from `pip install` to the
  # first verdict (`run` against the built-in reference receiver).
  tests/tools/hdrh.sh --install
  tmp=$(mktemp -d)
  tests/tools/.venv/bin/maturin build --release --quiet --out "$tmp/wheel" >/dev/null
  wheel=$(ls "$tmp"/wheel/*.whl)
  npm/pack.sh "$bin" "$tmp/npm" >/dev/null
  now() { date +%s.%N; }
  pip_s=(); npm_s=(); first=()
  for i in $(seq 1 "$runs"); do
    python3 -m venv "$tmp/venv$i"
    t0=$(now)
    "$tmp/venv$i/bin/python" -m pip install --quiet --no-index --disable-pip-version-check "$wheel"
    t1=$(now)
    (cd "$tmp" && "$tmp/venv$i/bin/webhook-harness" run --no-config >/dev/null 2>&1) || true
    t2=$(now)
    pip_s+=("$(python3 -c "print(round($t1 - $t0, 2))")"); first+=("$(python3 -c "print(round($t2 - $t0, 2))")")
    mkdir -p "$tmp/proj$i" && (cd "$tmp/proj$i" && npm init -y >/dev/null)
    t0=$(now)
    (cd "$tmp/proj$i" && npm install --offline --no-audit --no-fund --silent "$tmp"/npm/*.tgz)
    t1=$(now)
    npm_s+=("$(python3 -c "print(round($t1 - $t0, 2))")")
  done
  echo "wheel: $(du -k "$wheel" | cut -f1) KiB ($(basename "$wheel")); installed binary $(du -k "$tmp/venv1/bin/webhook-harness" | cut -f1) KiB"
  echo "npm: $(du -k "$tmp"/npm/webhook-harness-linux-x64-*.tgz | cut -f1) KiB platform package, $(du -k "$tmp"/npm/webhook-harness-[0-9]*.tgz | cut -f1) KiB launcher"
  echo "pip install from the wheel: median $(printf '%s\n' "${pip_s[@]}" | median) s (${pip_s[*]})"
  echo "npm install from the tarballs: median $(printf '%s\n' "${npm_s[@]}" | median) s (${npm_s[*]})"
  echo "pip install to the first verdict (run, built-in receiver): median $(printf '%s\n' "${first[@]}" | median) s (${first[*]})"
  rm -rf "$tmp"
fi
