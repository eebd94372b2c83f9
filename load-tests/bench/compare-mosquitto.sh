#!/usr/bin/env bash
# FleetMQ versus Mosquitto, driven by the same Gatling scenarios in one run, alternating brokers.
# Each broker is pinned to core 0 and the load generator to core 1 (taskset), so figures are per
# core. Prints a table; docs/benchmarks.md records a run.
#
#   load-tests/bench/compare-mosquitto.sh [duration-seconds] [rounds]
#
# Needs: Java 17, Debian's mosquitto (apt-get install mosquitto), util-linux taskset.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
duration="${1:-10}"
rounds="${2:-2}"
work="$root/load-tests/target/bench"
mkdir -p "$work"

(cd "$root" && ./mvnw -B -q install -DskipTests && ./mvnw -B -q -pl load-tests dependency:build-classpath \
  -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test)
cp="$(cat "$work/cp.txt"):$root/load-tests/target/test-classes"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mport=$(free_port); fport=$(free_port)
cat > "$work/mosquitto.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
# the default of 20 loses acknowledged QoS 1 messages under load in 2.0.11
max_inflight_messages 0
max_queued_messages 100000
persistence false
CONF

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

taskset -c 0 mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
taskset -c 0 java -Xmx1g -jar "$root/broker-node/target/broker-node.jar" --mqtt-host 127.0.0.1 --mqtt-port "$fport" \
  --mqtt-listeners 1 --http-port 0 --cluster-port 0 --max-queued-messages 100000 --max-inflight 1000 \
  > "$work/fleetmq.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do grep -q "event=broker.ready" "$work/fleetmq.log" && break; sleep 0.5; done

# run <simulation> <port> <extra -D...>: prints "<requests of the publish line> <p99 of publish>"
run() {
  local sim=$1 port=$2; shift 2
  local log="$work/$sim-$port-$RANDOM.log"
  last_log="$log"
  taskset -c 1 java -Xmx1g --add-opens=java.base/java.lang=ALL-UNNAMED -cp "$cp" \
    -Dbrokers="127.0.0.1:$port" -Dduration="$duration" -DdeliveryTimeout=60 "$@" \
    io.gatling.app.Gatling --simulation "io.fleetmq.loadtest.simulations.$sim" --results-folder "$work/results" \
    > "$log" 2>&1 || { echo "FAILED (see $log)" >&2; }
  local count p99
  count=$(grep -E "^> publish qos" "$log" | tail -1 | awk -F'|' '{gsub(/[ ,]/,"",$2); print $2}')
  p99=$(grep -E "^> response time 99th percentile" "$log" | tail -1 | awk -F'|' '{gsub(/[ ,]/,"",$3); print $3}')
  grep -q "count of failed events is 0.0 : true" "$log" || count="${count}(KO)"
  echo "${count:-0} ${p99:-?}"
}

# per_second <count[(KO)]> <multiplier>: messages per second, keeping a KO marker
per_second() {
  local n="${1%%[!0-9]*}"
  local suffix="${1#"$n"}"
  echo "$(( ${n:-0} * $2 / duration ))$suffix"
}

printf "%-6s %-34s %-10s %14s %14s\n" round scenario broker "msg/s" "p99 ms"
for r in $(seq 1 "$rounds"); do
  for qos in 0 1; do
    for b in fleetmq mosquitto; do
      port=$([ $b = fleetmq ] && echo "$fport" || echo "$mport")
      read -r count p99 <<< "$(run FanInSimulation "$port" -Dusers=10 -Dconsumers=1 -Drate=1000000 -Dqos=$qos -Dpayload=64)"
      printf "%-6s %-34s %-10s %14s %14s\n" "$r" "fan-in 10->1 qos$qos" "$b" "$(per_second "$count" 1)" "$p99"
      [ $b = mosquitto ] && [ $qos = 1 ] && mosq_max=$(per_second "$count" 1)
    done
  done
  # latency at half of Mosquitto's maximum QoS 1 rate, same offered load for both
  half=$(( ${mosq_max%%[!0-9]*} / 2 ))
  for b in fleetmq mosquitto; do
    port=$([ $b = fleetmq ] && echo "$fport" || echo "$mport")
    read -r count p99 <<< "$(run FanInSimulation "$port" -Dusers=10 -Dconsumers=1 -Drate=$half -Dqos=1 -Dpayload=64)"
    printf "%-6s %-34s %-10s %14s %14s\n" "$r" "fan-in qos1 at $half msg/s" "$b" "$(per_second "$count" 1)" "$p99"
  done
  for b in fleetmq mosquitto; do
    port=$([ $b = fleetmq ] && echo "$fport" || echo "$mport")
    read -r count p99 <<< "$(run FanOutSimulation "$port" -Dusers=100 -Drate=1000000 -Dqos=1 -Dpayload=64)"
    printf "%-6s %-34s %-10s %14s %14s\n" "$r" "fan-out 1->100 qos1 (deliveries)" "$b" "$(per_second "$count" 100)" "$p99"
  done
  # the durable paths: live fan-in to a persistent session; 4 publishers filling one offline
  # durable session, then its drain on reconnect (DURABLE-QUEUE line of the simulation). The
  # queue stays below 65,535 messages: with max_inflight_messages 0 Mosquitto sends a longer
  # queue all at once, reusing packet ids still in flight, and the client drops the connection
  # (80,000 queued: 6,945 acknowledged messages never arrived)
  for b in fleetmq mosquitto; do
    port=$([ $b = fleetmq ] && echo "$fport" || echo "$mport")
    read -r count p99 <<< "$(run FanInSimulation "$port" -Dusers=10 -Dconsumers=1 -Drate=1000000 -Dqos=1 -Dpayload=64 -Dpersistent=true)"
    printf "%-6s %-34s %-10s %14s %14s\n" "$r" "fan-in 10->1 qos1, durable sub" "$b" "$(per_second "$count" 1)" "$p99"
  done
  for b in fleetmq mosquitto; do
    port=$([ $b = fleetmq ] && echo "$fport" || echo "$mport")
    run DurableQueueSimulation "$port" -Dusers=4 -Dmessages=$(( 1000 * duration )) -Dqos=1 -Dpayload=64 > /dev/null
    line=$(grep -h "^DURABLE-QUEUE" "$last_log" | tail -1)
    ok=""; grep -q "count of failed events is 0.0 : true" "$last_log" || ok="(KO)"
    fill=$(sed -E 's/.*fill=([0-9]+).*/\1/' <<< "$line"); drain=$(sed -E 's/.*drain=([0-9]+).*/\1/' <<< "$line")
    printf "%-6s %-34s %-10s %14s %14s\n" "$r" "offline durable: fill (4 pubs)" "$b" "${fill:-0}$ok" "-"
    printf "%-6s %-34s %-10s %14s %14s\n" "$r" "offline durable: drain" "$b" "${drain:-0}$ok" "-"
  done
done
echo "mosquitto: $(mosquitto -h 2>&1 | head -1)"
