#!/usr/bin/env bash
# Broker resident memory per idle connection: a node on core 0, the connection-storm scenario
# on core 1 opening N connections (default 15,000) and holding them; prints the node's RSS before
# and while they are held.
#
#   load-tests/bench/idle-connections.sh [connections] [seconds]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
n="${1:-15000}"
duration="${2:-60}"
work="$root/load-tests/target/bench"
mkdir -p "$work"
[ -f "$work/cp.txt" ] || (cd "$root" && ./mvnw -B -q install -DskipTests && ./mvnw -B -q -pl load-tests \
  dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test)
cp="$(cat "$work/cp.txt"):$root/load-tests/target/test-classes"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

taskset -c 0 java ${NODE_JAVA_OPTS:--Xmx2g} -jar "$root/broker-node/target/broker-node.jar" --mqtt-host 127.0.0.1 --mqtt-port "$port" \
  --http-port 0 --cluster-port 0 --connect-timeout 60 > "$work/idle-node.log" 2>&1 &
node=$!
trap 'kill $node 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do grep -q "event=broker.ready" "$work/idle-node.log" && break; sleep 0.5; done
sleep 3
rss() { awk '/VmRSS/ {print $2}' "/proc/$node/status"; }
before=$(rss)
taskset -c 1 java -Xmx6g --add-opens=java.base/java.lang=ALL-UNNAMED -cp "$cp" -Dbrokers="127.0.0.1:$port" \
  -Dusers="$n" -Dduration="$duration" io.gatling.app.Gatling \
  --simulation io.fleetmq.loadtest.simulations.ConnectionStormSimulation --results-folder "$work/results" -nr \
  > "$work/idle-gatling.log" 2>&1 &
gatling=$!
peak=$before
while kill -0 $gatling 2>/dev/null; do
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  sleep 1
done
wait $gatling && status=ok || status=FAILED
conns=$(grep -E "^> connect " "$work/idle-gatling.log" | tail -1 | awk -F'|' '{gsub(/[ ,]/,"",$3); print $3}')
echo "connections: ${conns:-?} ($status), broker RSS before: ${before} KiB, peak: ${peak} KiB,"\
  "per connection: $(( (peak - before) / ${conns:-1} )) KiB"
