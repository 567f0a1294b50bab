#!/usr/bin/env bash
# A local cluster-mode try-out (docs/CLUSTER.md): three nats-servers with
# JetStream clustered on 127.0.0.1, three sbd-ledger nodes and one gateway
# on them, until Ctrl-C (or SIGTERM), which stops every process this script
# started.
#
#   tools/cluster.sh                      # state under the checkout's data/cluster
#   tools/cluster.sh DIR                  # state under DIR
#   tools/cluster.sh DIR -- SERVE_ARGS    # SERVE_ARGS go to every node's `serve`
#
# DIR keeps the servers' JetStream stores (DIR/nats/nI/), their configs and
# logs, and each node's log (DIR/nodeI.db, output in DIR/nodeI.log), so a
# second run resumes the same cluster; delete DIR to start afresh (never one
# half: nodes whose logs are ahead of an emptied stream cannot go on).
#
# Ports are fixed, so the URLs stay the same between runs; the script stops
# before starting anything if one is taken. nats-server I (1..3) listens for
# clients on SBD_CLUSTER_NATS_PORT+I-1 (default 4222..4224), for its cluster
# routes on SBD_CLUSTER_ROUTE_PORT+I-1 (6222..), for monitoring on
# SBD_CLUSTER_MONITOR_PORT+I-1 (8222..); node I serves HTTP on
# SBD_CLUSTER_HTTP_PORT+I-1 (8081..8083); the gateway (`sbd-ledger gateway`,
# /ws only, docs/CLUSTER.md "Gateways") on SBD_CLUSTER_GATEWAY_PORT (8090),
# its output in DIR/gateway1.log. SERVE_ARGS are the nodes' alone.
#
# The signing secret is $SBD_JWT_SECRET, or a random one made here and
# printed. SBD_BUILD_DIR picks the build directory (default build/);
# sbd-ledger is built there (tools/build.sh sbd-ledger) if missing.
set -euo pipefail

usage() {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

dir="$(dirname "$0")/../data/cluster"  # The checkout's data/, as demo.sh's log.
serve_args=()
if (($#)) && [[ "$1" != -- ]]; then
  [[ "$1" == -h || "$1" == --help ]] && usage
  dir=$1
  shift
fi
if (($#)); then
  [[ "$1" == -- ]] || usage
  shift
  serve_args=("$@")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)  # Absolute: the nats configs name their store dirs.
cd "$(dirname "$0")/.."

nats_port=${SBD_CLUSTER_NATS_PORT:-4222}
route_port=${SBD_CLUSTER_ROUTE_PORT:-6222}
monitor_port=${SBD_CLUSTER_MONITOR_PORT:-8222}
http_port=${SBD_CLUSTER_HTTP_PORT:-8081}
gateway_port=${SBD_CLUSTER_GATEWAY_PORT:-8090}
build_dir="${SBD_BUILD_DIR:-build}"
ledger="$build_dir/tools/sbd-ledger/sbd-ledger"
servers=(1 2 3)

nats_server=$(command -v nats-server || true)
if [[ -z "$nats_server" && -x /usr/sbin/nats-server ]]; then nats_server=/usr/sbin/nats-server; fi
if [[ -z "$nats_server" ]]; then
  echo "cluster: nats-server not found (Debian: apt-get install nats-server)" >&2
  exit 1
fi
[[ -x "$ledger" ]] || tools/build.sh sbd-ledger
ledger="$(cd "$(dirname "$ledger")" && pwd)/sbd-ledger"  # Absolute, for the commands printed.

# GET http://127.0.0.1:PORT/PATH: prints the status code, then the body. With
# curl when there is one; else over bash's /dev/tcp (HTTP/1.0, so the server
# closes the connection after its answer and the read ends). "000" if
# nothing answered within 2 s.
http_get() {
  local port=$1 path=$2 answer
  if command -v curl >/dev/null; then
    answer=$(curl -s --max-time 2 -w '\n%{http_code}' "http://127.0.0.1:$port$path" 2>/dev/null) || true
    printf '%s\n%s\n' "${answer##*$'\n'}" "${answer%$'\n'*}"
    return
  fi
  answer=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" &&
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$path" "$port" >&3 &&
    timeout 2 cat <&3) 2>/dev/null | tr -d '\r') || true
  local status_line=${answer%%$'\n'*}
  local status=000
  [[ "$status_line" =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]] && status=${BASH_REMATCH[1]}
  printf '%s\n%s\n' "$status" "${answer#*$'\n\n'}"
}

# True if something accepts connections on 127.0.0.1:PORT.
port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

for i in "${servers[@]}"; do
  for port in $((nats_port + i - 1)) $((route_port + i - 1)) $((monitor_port + i - 1)) \
    $((http_port + i - 1)); do
    if port_taken "$port"; then
      echo "cluster: 127.0.0.1:$port is taken (another cluster.sh? set SBD_CLUSTER_*_PORT)" >&2
      exit 1
    fi
  done
done
if port_taken "$gateway_port"; then
  echo "cluster: 127.0.0.1:$gateway_port is taken (another cluster.sh? set SBD_CLUSTER_GATEWAY_PORT)" >&2
  exit 1
fi

if [[ -z "${SBD_JWT_SECRET:-}" ]]; then
  SBD_JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  secret_made=1
fi
export SBD_JWT_SECRET

# Everything started, in start order; stopped in reverse, one SIGTERM each
# (nodes before the servers, so a node's shutdown can still hand its writer
# lease over). Each child runs in a session of its own (setsid), so that a
# Ctrl-C in the terminal reaches this script only: a node that got SIGINT
# from the terminal and then SIGTERM from here would die of the second
# signal half-way through its shutdown.
pids=()
names=()
stopping=0
stop_all() {
  ((stopping)) && return
  stopping=1
  trap - INT TERM
  echo "cluster: stopping" >&2
  local n
  for ((n = ${#pids[@]} - 1; n >= 0; n--)); do
    kill -TERM "${pids[n]}" 2>/dev/null || true
    # A node needs up to a few seconds to finish (kShutdownGrace); then KILL.
    for _ in $(seq 100); do
      kill -0 "${pids[n]}" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "${pids[n]}" 2>/dev/null || true
    wait "${pids[n]}" 2>/dev/null || true
  done
  echo "cluster: stopped (state kept in $dir)" >&2
}
trap 'stop_all; exit 130' INT
trap 'stop_all; exit 143' TERM
trap stop_all EXIT

mkdir -p "$dir/nats"
cluster_urls=()
for i in "${servers[@]}"; do
  cluster_urls+=("nats://127.0.0.1:$((nats_port + i - 1))")
  {
    echo "server_name: n$i"
    echo "listen: 127.0.0.1:$((nats_port + i - 1))"
    echo "http: 127.0.0.1:$((monitor_port + i - 1))"
    echo "jetstream {"
    echo "  store_dir: \"$dir/nats/n$i\""
    echo "}"
    echo "cluster {"
    echo "  name: sbd"
    echo "  listen: 127.0.0.1:$((route_port + i - 1))"
    echo "  routes: ["
    for j in "${servers[@]}"; do
      if ((j != i)); then echo "    \"nats-route://127.0.0.1:$((route_port + j - 1))\""; fi
    done
    echo "  ]"
    echo "}"
  } >"$dir/nats/n$i.conf"
  setsid "$nats_server" -c "$dir/nats/n$i.conf" >>"$dir/nats/n$i.log" 2>&1 &
  pids+=($!)
  names+=("nats-server n$i")
done
cluster_list=$(IFS=,; echo "${cluster_urls[*]}")

# Waits up to SECONDS for `check ARGS` to succeed; exits naming WHAT if not.
await() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      echo "cluster: $what not ready within $seconds s (logs in $dir)" >&2
      exit 1
    fi
    sleep 0.2
  done
}
# (Answers are read whole before they are looked at: a reader that stops
# early would break http_get's pipe.)
status_is_200() {
  local answer
  answer=$(http_get "$1" "$2")
  [[ "${answer%%$'\n'*}" == 200 ]]
}

# JetStream needs a quorum of the three before a stream can be made, so
# every server is started before any is waited for.
for i in "${servers[@]}"; do
  await 30 "nats-server n$i (/healthz)" status_is_200 $((monitor_port + i - 1)) /healthz
done

for i in "${servers[@]}"; do
  setsid "$ledger" serve --cluster "$cluster_list" --node-id "node$i" --db "$dir/node$i.db" \
    --listen "127.0.0.1:$((http_port + i - 1))" "${serve_args[@]}" >>"$dir/node$i.log" 2>&1 &
  pids+=($!)
  names+=("sbd-ledger node$i")
done
# A node answers /healthz as soon as it listens; it finds the stream first
# (up to 30 s while JetStream has no quorum).
for i in "${servers[@]}"; do
  await 45 "sbd-ledger node$i (/healthz)" status_is_200 $((http_port + i - 1)) /healthz
done
one_writer() {
  local i writers=0
  for i in "${servers[@]}"; do
    if [[ "$(http_get $((http_port + i - 1)) /healthz)" == *'"role":"writer"'* ]]; then
      writers=$((writers + 1))
    fi
  done
  ((writers == 1))
}
await 30 "a writer" one_writer

# The gateway follows the stream the nodes write; its /healthz is 200 once
# it does.
setsid "$ledger" gateway --cluster "$cluster_list" --node-id gateway1 \
  --listen "127.0.0.1:$gateway_port" >>"$dir/gateway1.log" 2>&1 &
pids+=($!)
names+=("sbd-ledger gateway1")
await 45 "sbd-ledger gateway1 (/healthz)" status_is_200 "$gateway_port" /healthz

admin_token=$("$ledger" token --user admin --admin)
writer_url=
follower_url=
for i in "${servers[@]}"; do
  url="http://127.0.0.1:$((http_port + i - 1))"
  if [[ "$(http_get $((http_port + i - 1)) /healthz)" == *'"role":"writer"'* ]]; then
    writer_url=$url
  elif [[ -z "$follower_url" ]]; then
    follower_url=$url
  fi
done

echo
echo "NATS:  $cluster_list  (monitoring: http://127.0.0.1:$monitor_port/jsz ...)"
for i in "${servers[@]}"; do
  url="http://127.0.0.1:$((http_port + i - 1))"
  role=follower
  [[ "$url" == "$writer_url" ]] && role=writer
  echo "node$i: $url  ($role now; pid ${pids[i + 2]}; output in $dir/node$i.log)"
done
echo "gateway1: ws://127.0.0.1:$gateway_port/ws?token=...  (pid ${pids[6]}; output in $dir/gateway1.log)"
if ((${secret_made:-0})); then
  echo "export SBD_JWT_SECRET=$SBD_JWT_SECRET   # made for this run: tokens need it"
fi
echo "admin token: $admin_token"
cat <<EOF

Try it (a write on a follower is forwarded to the writer; every answer's
X-SBD-Seq says how far the answering node is; X-SBD-Min-Seq: N makes a
request wait until its node has applied seq N):
  T=$admin_token
  curl -s $writer_url/healthz $follower_url/healthz
  curl -si -X POST $follower_url/admin/accounts -H "Authorization: Bearer \$T" -d '{"username":"alice"}'
  curl -si -X POST $follower_url/admin/mint -H "Authorization: Bearer \$T" -d '{"username":"alice","amount":100}'
  curl -si $writer_url/sbd_tokens -H "X-SBD-Min-Seq: 2" -H "Authorization: Bearer \$($ledger token --user alice)"
  curl -s http://127.0.0.1:$gateway_port/healthz   # the gateway: the seq it has fanned out, its lag
  kill -9 <the writer's pid>   # another node writes within the lease (5 s)
Ctrl-C stops everything.
EOF

# Reports a process that ends by itself (kill -9 of a node to watch a
# failover, say), until Ctrl-C.
reported=()
while :; do
  for n in "${!pids[@]}"; do
    if [[ -z "${reported[n]:-}" ]] && ! kill -0 "${pids[n]}" 2>/dev/null; then
      code=0
      wait "${pids[n]}" 2>/dev/null || code=$?
      echo "cluster: ${names[n]} (pid ${pids[n]}) exited with $code" >&2
      reported[n]=1
    fi
  done
  sleep 1 &
  wait $! || true
done
