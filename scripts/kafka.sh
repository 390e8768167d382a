#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft, combined broker+controller) for development
# and tests. The broker jars come from Maven Central (scripts/kafka/pom.xml) and are
# cached; the broker listens on 127.0.0.1 only.
#
# Usage: scripts/kafka.sh start|stop|restart|status|bootstrap|fetch|logs
#
# Environment:
#   AUDITWATCH_KAFKA_PORT             client port                  (default 19092)
#   AUDITWATCH_KAFKA_CONTROLLER_PORT  KRaft controller port        (default 19093)
#   AUDITWATCH_KAFKA_STATE            config, data, pid and log    (default <repo>/var/kafka)
#   AUDITWATCH_KAFKA_CACHE            jar cache root               (default ~/.cache/auditwatch/kafka)
#   AUDITWATCH_KAFKA_START_TIMEOUT    seconds to wait for ready    (default 120)
#   AUDITWATCH_KAFKA_HEAP             JVM max heap                 (default 512m)
#   AUDITWATCH_KAFKA_LOG_LEVEL        broker log level             (default WARN)
#   AUDITWATCH_PYTHON                 python with aiokafka for the readiness probe
#                                     (default <repo>/.venv/bin/python, then python3;
#                                     falls back to a Java probe on the broker classpath)
set -euo pipefail

readonly KAFKA_VERSION=4.1.0
readonly HOST=127.0.0.1

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd)
POM="$SCRIPT_DIR/kafka/pom.xml"

PORT=${AUDITWATCH_KAFKA_PORT:-19092}
CONTROLLER_PORT=${AUDITWATCH_KAFKA_CONTROLLER_PORT:-19093}
STATE_DIR=${AUDITWATCH_KAFKA_STATE:-$REPO_ROOT/var/kafka}
CACHE_ROOT=${AUDITWATCH_KAFKA_CACHE:-${HOME:-/tmp}/.cache/auditwatch/kafka}
START_TIMEOUT=${AUDITWATCH_KAFKA_START_TIMEOUT:-120}
HEAP=${AUDITWATCH_KAFKA_HEAP:-512m}
LOG_LEVEL=${AUDITWATCH_KAFKA_LOG_LEVEL:-WARN}
STOP_TIMEOUT=30

LIBS_DIR="$CACHE_ROOT/$KAFKA_VERSION/libs"
LIBS_STAMP="$LIBS_DIR/.pom.sha256"
DATA_DIR="$STATE_DIR/data"
CONFIG="$STATE_DIR/server.properties"
LOG4J_CONFIG="$STATE_DIR/log4j2.properties"
PID_FILE="$STATE_DIR/kafka.pid"
LOG_FILE="$STATE_DIR/kafka.log"
BOOTSTRAP="$HOST:$PORT"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

validate_env() {
    [[ $PORT =~ ^[0-9]+$ && $PORT -ge 1 && $PORT -le 65535 ]] \
        || die "AUDITWATCH_KAFKA_PORT must be a TCP port number, got '$PORT'"
    [[ $CONTROLLER_PORT =~ ^[0-9]+$ && $CONTROLLER_PORT -ge 1 && $CONTROLLER_PORT -le 65535 ]] \
        || die "AUDITWATCH_KAFKA_CONTROLLER_PORT must be a TCP port number, got '$CONTROLLER_PORT'"
    [[ $PORT != "$CONTROLLER_PORT" ]] \
        || die "AUDITWATCH_KAFKA_PORT and AUDITWATCH_KAFKA_CONTROLLER_PORT must differ"
    [[ $START_TIMEOUT =~ ^[0-9]+$ ]] \
        || die "AUDITWATCH_KAFKA_START_TIMEOUT must be whole seconds, got '$START_TIMEOUT'"
}

require() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is required ($2)"
}

# ---------------------------------------------------------------------------
# Jars
# ---------------------------------------------------------------------------

pom_digest() { sha256sum "$POM" | cut -d' ' -f1; }

libs_ready() {
    [[ -f $LIBS_STAMP && "$(cat "$LIBS_STAMP")" == "$(pom_digest)" ]] \
        && compgen -G "$LIBS_DIR/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null
}

fetch() {
    if libs_ready; then
        return 0
    fi
    require java "a JDK 17+ runs the broker"
    require mvn "Maven downloads the Kafka jars from Maven Central"
    mkdir -p "$CACHE_ROOT/$KAFKA_VERSION"
    local tmp fetch_log started
    tmp=$(mktemp -d "$CACHE_ROOT/$KAFKA_VERSION/libs.tmp.XXXXXX")
    fetch_log="$CACHE_ROOT/$KAFKA_VERSION/fetch.log"
    started=$SECONDS
    log "fetching Kafka $KAFKA_VERSION jars with Maven into $LIBS_DIR (first run only)"
    if ! (cd "$tmp" && mvn -B -q -Dstyle.color=never -f "$POM" \
            dependency:copy-dependencies -DoutputDirectory="$tmp") >"$fetch_log" 2>&1; then
        tail -n 40 "$fetch_log" >&2 || true
        rm -rf "$tmp"
        die "Maven could not fetch the Kafka jars (full output: $fetch_log)"
    fi
    compgen -G "$tmp/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null \
        || { rm -rf "$tmp"; die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing"; }
    pom_digest >"$tmp/.pom.sha256"
    # Swap in atomically enough for a dev cache: a concurrent fetch loses the race
    # and discards its copy.
    rm -rf "$LIBS_DIR.old"
    [[ -d $LIBS_DIR ]] && mv "$LIBS_DIR" "$LIBS_DIR.old"
    if mv -T "$tmp" "$LIBS_DIR" 2>/dev/null; then
        rm -rf "$LIBS_DIR.old"
    else
        rm -rf "$tmp"
    fi
    libs_ready || die "jar cache at $LIBS_DIR is incomplete"
    log "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars in $((SECONDS - started))s"
}

# ---------------------------------------------------------------------------
# Process helpers
# ---------------------------------------------------------------------------

# Alive and not a zombie.
pid_alive() {
    local pid=$1 state
    [[ -r /proc/$pid/stat ]] || { kill -0 "$pid" 2>/dev/null; return; }
    state=$(sed -e 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $state && $state != Z && $state != X ]]
}

# The pid is a broker started by this script for this state dir.
pid_is_ours() {
    local pid=$1
    pid_alive "$pid" || return 1
    if [[ -r /proc/$pid/cmdline ]]; then
        local cmd
        cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
        [[ $cmd == *kafka.Kafka* && $cmd == *"$CONFIG"* ]]
    else
        ps -o args= -p "$pid" 2>/dev/null | grep -q -- "kafka.Kafka $CONFIG"
    fi
}

# Pid of our running broker, or nothing.
our_pid() {
    [[ -f $PID_FILE ]] || return 1
    local pid
    pid=$(tr -dc '0-9' <"$PID_FILE")
    [[ -n $pid ]] && pid_is_ours "$pid" && echo "$pid"
}

port_open() {
    (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null
}

# Port the running broker was configured with (from its server.properties).
configured_port() {
    sed -n "s#^listeners=PLAINTEXT://$HOST:\([0-9]*\),.*#\1#p" "$CONFIG" 2>/dev/null
}

describe_listener() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -ltnpH "sport = :$1" 2>/dev/null | sed 's/^/    /' >&2 || true
}

log_tail() {
    if [[ -s $LOG_FILE ]]; then
        log "last lines of $LOG_FILE:"
        tail -n 40 "$LOG_FILE" | sed 's/^/    /' >&2
    fi
}

# ---------------------------------------------------------------------------
# Readiness probe: a Kafka metadata request must succeed and list a broker.
# ---------------------------------------------------------------------------

PROBE_PY='
import asyncio, logging, os, sys, time

from aiokafka.admin import AIOKafkaAdminClient

logging.disable(logging.CRITICAL)  # connection errors while the broker boots are expected
bootstrap, deadline, pid = sys.argv[1], time.monotonic() + float(sys.argv[2]), int(sys.argv[3])

def alive():
    if pid <= 0:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][:1] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True

async def once():
    client = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await client.start()
    try:
        cluster = await client.describe_cluster()  # a Metadata request
        if not cluster.get("brokers"):
            raise RuntimeError("no brokers in metadata")
    finally:
        await client.close()

async def main():
    last = None
    while True:
        if not alive():
            print(f"broker process {pid} exited", file=sys.stderr)
            return 3
        try:
            await asyncio.wait_for(once(), timeout=10)
            return 0
        except Exception as exc:
            last = exc
        if time.monotonic() >= deadline:
            print(f"no metadata from {bootstrap}: {last!r}", file=sys.stderr)
            return 1
        await asyncio.sleep(0.5)

sys.exit(asyncio.run(main()))
'

PROBE_JAVA='
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

public class ReadyProbe {
    static boolean alive(long pid) {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
            String state = stat.substring(stat.lastIndexOf(") ") + 2).substring(0, 1);
            return !state.equals("Z") && !state.equals("X");
        } catch (java.io.IOException e) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[1]));
        long pid = Long.parseLong(args[2]);
        Exception last = null;
        while (true) {
            if (pid > 0 && !alive(pid)) {
                System.err.println("broker process " + pid + " exited");
                System.exit(3);
            }
            Properties props = new Properties();
            props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000);
            props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000);
            try (Admin admin = Admin.create(props)) {
                if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
                    System.exit(0);
                }
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() >= deadline) {
                System.err.println("no metadata from " + bootstrap + ": " + last);
                System.exit(1);
            }
            Thread.sleep(500);
        }
    }
}
'

probe_python() {
    local candidate
    for candidate in "${AUDITWATCH_PYTHON:-}" "$REPO_ROOT/.venv/bin/python" python3; do
        [[ -n $candidate ]] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import aiokafka.admin' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# wait_ready SECONDS PID -> 0 ready, 1 timed out, 3 broker exited
wait_ready() {
    local timeout=$1 pid=${2:-0} python
    if python=$(probe_python); then
        "$python" -c "$PROBE_PY" "$BOOTSTRAP" "$timeout" "$pid"
    else
        local probe_dir="$STATE_DIR/probe"
        mkdir -p "$probe_dir"
        printf '%s' "$PROBE_JAVA" >"$probe_dir/ReadyProbe.java"
        java -Xmx64m -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS_DIR/*" \
            "$probe_dir/ReadyProbe.java" "$BOOTSTRAP" "$timeout" "$pid" >>"$LOG_FILE" 2>&1
    fi
}

# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------

write_config() {
    cat >"$CONFIG" <<EOF
# Generated by scripts/kafka.sh; rewritten on every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR

# Single node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Fast, test-friendly defaults.
group.initial.rebalance.delay.ms=0
num.partitions=4
auto.create.topics.enable=true
delete.topic.enable=true

# Small footprint (2-core shared machine).
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.cleaner.dedupe.buffer.size=16777216
EOF

    cat >"$LOG4J_CONFIG" <<EOF
# Generated by scripts/kafka.sh: broker logs at $LOG_LEVEL to stdout, which is
# redirected to $LOG_FILE.
status = error
name = auditwatch-local-kafka
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = $LOG_LEVEL
rootLogger.appenderRef.out.ref = STDOUT
EOF
}

new_cluster_id() {
    # Same format as Kafka's Uuid: 16 random bytes, URL-safe base64, no padding,
    # and (like Uuid.randomUuid) never starting with '-'.
    local id
    while :; do
        id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
        [[ ${#id} -eq 22 && $id != -* && $id != AAAAAAAAAAAAAAAAAAAAA[AQ] ]] && break
    done
    echo "$id"
}

# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------

cmd_start() {
    local pid started=$SECONDS

    if pid=$(our_pid); then
        local running_port
        running_port=$(configured_port)
        if [[ -n $running_port && $running_port != "$PORT" ]]; then
            die "a broker from this script is already running on port $running_port (pid $pid);" \
                "run '$0 stop' first to start one on port $PORT"
        fi
        log "broker already running (pid $pid), checking it answers on $BOOTSTRAP"
        if wait_ready "$START_TIMEOUT" "$pid"; then
            log "reusing running broker (pid $pid)"
            echo "$BOOTSTRAP"
            return 0
        fi
        log_tail
        die "broker pid $pid is running but does not answer on $BOOTSTRAP; try '$0 stop'"
    fi
    rm -f "$PID_FILE"

    local p
    for p in "$PORT" "$CONTROLLER_PORT"; do
        if port_open "$p"; then
            log "port $HOST:$p is already in use by a process not started by this script:"
            describe_listener "$p"
            die "cannot start Kafka: port $p is taken; stop that process or choose other" \
                "ports with AUDITWATCH_KAFKA_PORT / AUDITWATCH_KAFKA_CONTROLLER_PORT"
        fi
    done

    require java "a JDK 17+ runs the broker"
    fetch

    mkdir -p "$STATE_DIR"
    rm -rf "$DATA_DIR" "$STATE_DIR/probe"
    mkdir -p "$DATA_DIR"
    write_config
    : >"$LOG_FILE"

    local java_opts=(
        "-Xmx$HEAP"
        "-XX:+UseG1GC" "-XX:MaxGCPauseMillis=20"
        "-Djava.awt.headless=true"
        "-Djava.net.preferIPv4Stack=true"
        "-Dlog4j2.configurationFile=$LOG4J_CONFIG"
    )

    local cluster_id
    cluster_id=$(new_cluster_id)
    if ! java -Xmx256m "-Dlog4j2.configurationFile=$LOG4J_CONFIG" -cp "$LIBS_DIR/*" \
            kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >>"$LOG_FILE" 2>&1; then
        log_tail
        die "formatting the KRaft data dir $DATA_DIR failed"
    fi

    log "starting Kafka $KAFKA_VERSION on $BOOTSTRAP (controller $HOST:$CONTROLLER_PORT," \
        "state $STATE_DIR)"
    nohup java "${java_opts[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$CONFIG" \
        >>"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"

    local rc=0
    wait_ready "$START_TIMEOUT" "$pid" || rc=$?
    if [[ $rc -ne 0 ]]; then
        log_tail
        if pid_alive "$pid"; then
            stop_pid "$pid"
            rm -f "$PID_FILE"
            die "Kafka did not become ready on $BOOTSTRAP within ${START_TIMEOUT}s; stopped it"
        fi
        rm -f "$PID_FILE"
        die "Kafka exited during startup (see $LOG_FILE)"
    fi
    log "ready in $((SECONDS - started))s (pid $pid)"
    echo "$BOOTSTRAP"
}

stop_pid() {
    local pid=$1 waited=0
    kill -TERM "$pid" 2>/dev/null || return 0
    while pid_alive "$pid"; do
        if (( waited >= STOP_TIMEOUT * 10 )); then
            log "broker pid $pid ignored TERM for ${STOP_TIMEOUT}s, sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}

cmd_stop() {
    local pid
    if pid=$(our_pid); then
        log "stopping broker (pid $pid)"
        stop_pid "$pid"
    else
        log "no broker from this script is running"
    fi
    rm -f "$PID_FILE"
    rm -rf "$DATA_DIR" "$STATE_DIR/probe"
}

cmd_status() {
    local pid
    if ! pid=$(our_pid); then
        echo "stopped"
        return 1
    fi
    if wait_ready 5 "$pid" 2>/dev/null; then
        echo "running (pid $pid) on $BOOTSTRAP, ready"
        return 0
    fi
    echo "running (pid $pid) on $BOOTSTRAP, not answering"
    return 2
}

main() {
    local cmd=${1:-}
    validate_env
    case $cmd in
        start) cmd_start ;;
        stop) cmd_stop ;;
        restart) cmd_stop; cmd_start ;;
        status) cmd_status ;;
        bootstrap) echo "$BOOTSTRAP" ;;
        fetch) fetch; echo "$LIBS_DIR" ;;
        logs) [[ -f $LOG_FILE ]] && tail -n "${2:-100}" "$LOG_FILE" ;;
        -h | --help | help) usage ;;
        *) usage; exit 2 ;;
    esac
}

main "$@"
