#!/usr/bin/env bash
# Starts a FleetMQ cluster of N nodes on this machine (127.0.0.1) with HAProxy in front as a TCP
# load balancer, and stops them all on Ctrl-C.
#
#   cluster-config/local-cluster.sh [N]        (default 3)
#
# Ports (override with the environment): LB_PORT (1883) is the one clients use; node i (0-based)
# gets MQTT_BASE+i (1884..), CLUSTER_BASE+i (5701..), HTTP_BASE+i (8081..). Logs go to
# $LOG_DIR (default target/local-cluster). Needs Java 17 and Debian's haproxy.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
n="${1:-3}"
LB_PORT="${LB_PORT:-1883}"
MQTT_BASE="${MQTT_BASE:-1884}"
CLUSTER_BASE="${CLUSTER_BASE:-5701}"
HTTP_BASE="${HTTP_BASE:-8081}"
LOG_DIR="${LOG_DIR:-$root/target/local-cluster}"
JAR="$root/broker-node/target/broker-node.jar"
JAVA_OPTS="${JAVA_OPTS:--Xmx512m}"

command -v haproxy >/dev/null || { echo "haproxy is missing: apt-get install haproxy" >&2; exit 2; }
if [ ! -f "$JAR" ]; then
  (cd "$root" && ./mvnw -B -q package -DskipTests)
fi
mkdir -p "$LOG_DIR"

members=""
for ((i = 0; i < n; i++)); do
  members="${members:+$members,}127.0.0.1:$((CLUSTER_BASE + i))"
done

pids=()
stop() {
  trap '' INT TERM # a second Ctrl-C must not cut the orderly stop short
  trap - EXIT
  echo "stopping..."
  # haproxy (started last) first, then the nodes, each with SIGTERM (a graceful stop)
  for ((k = ${#pids[@]} - 1; k >= 0; k--)); do kill -TERM "${pids[$k]}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "stopped"
}
trap stop INT TERM EXIT

for ((i = 0; i < n; i++)); do
  # shellcheck disable=SC2086
  java $JAVA_OPTS -jar "$JAR" \
    --mqtt-host 127.0.0.1 --mqtt-port $((MQTT_BASE + i)) \
    --cluster-host 127.0.0.1 --cluster-port $((CLUSTER_BASE + i)) --cluster-members "$members" \
    --http-host 127.0.0.1 --http-port $((HTTP_BASE + i)) \
    > "$LOG_DIR/node-$i.log" 2>&1 &
  pids+=($!)
  echo "node $i: pid $! mqtt 127.0.0.1:$((MQTT_BASE + i)) http 127.0.0.1:$((HTTP_BASE + i)) log $LOG_DIR/node-$i.log"
done

for ((i = 0; i < n; i++)); do
  for _ in $(seq 1 120); do
    if grep -q "event=broker.ready" "$LOG_DIR/node-$i.log" 2>/dev/null; then break; fi
    kill -0 "${pids[$i]}" 2>/dev/null || { echo "node $i exited; see $LOG_DIR/node-$i.log" >&2; exit 1; }
    sleep 0.5
  done
done

# HAProxy sends connections only to ready nodes (see haproxy.cfg.template): wait for every node's
# /health/ready, so none starts out marked down
if command -v curl > /dev/null; then
  for ((i = 0; i < n; i++)); do
    for _ in $(seq 1 120); do
      curl -sf -o /dev/null "http://127.0.0.1:$((HTTP_BASE + i))/health/ready" && break
      sleep 0.5
    done
  done
fi

servers=""
for ((i = 0; i < n; i++)); do
  servers="${servers}    server node$i 127.0.0.1:$((MQTT_BASE + i)) check port $((HTTP_BASE + i))"$'\n'
done
cfg="$LOG_DIR/haproxy.cfg"
sed -e "s/__LB_PORT__/$LB_PORT/" "$here/haproxy.cfg.template" | awk -v s="$servers" '{ if ($0 == "__SERVERS__") printf "%s", s; else print }' > "$cfg"
haproxy -f "$cfg" -db > "$LOG_DIR/haproxy.log" 2>&1 &
pids+=($!)
echo "haproxy: pid $! mqtt 127.0.0.1:$LB_PORT (config $cfg)"
echo "cluster of $n ready; Ctrl-C stops it"
wait
