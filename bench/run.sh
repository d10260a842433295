#!/usr/bin/env bash
# Portico benchmark: throughput of two API calls, idle memory, start-up time
# and binary size, each next to the bound measured in the same run.
#
# Usage:
#   bench/run.sh [--pg BASE_URL] [--write] [options]
#
#   --pg BASE_URL     benchmark on PostgreSQL: a fresh database is created with
#                     BASE_URL (e.g. "$(scripts/ensure-postgres)") and dropped
#                     afterwards. Without it: SQLite in a fresh data dir.
#   --write           also put the results in BENCHMARKS.md (the section for
#                     this engine is replaced, or added).
#   --duration SECS   length of each measured wrk run        (default 10)
#   --threads N       wrk threads                            (default 2)
#   --connections N   wrk connections                        (default 64)
#   --restarts N      start-up measurements, median reported (default 5)
#   --port N          first port to try for the server       (default 18181)
#   --pin             run the server on CPU 0 and wrk on CPU 1 (taskset);
#                     by default both share all CPUs
#   --bin PATH        server binary (default target/release/portico)
#   --wait-quiet MIN  first wait (up to MIN minutes) until the CPUs are idle
#                     (under 10% busy over 3 s), for figures not lowered by
#                     other work on the machine
#
# Needs: target/release/portico (cargo build --release --locked -p portico-server),
# wrk and curl (installed with apt-get when missing and run as root),
# psql for --pg. Everything runs on 127.0.0.1; every run is bounded in time.
# Progress goes to stderr; the markdown results go to stdout.
# shellcheck disable=SC2016 # backticks in single quotes are markdown
set -euo pipefail

CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

PG_BASE=''
WRITE=0
DURATION=10
THREADS=2
CONNECTIONS=64
PAGE_CONNECTIONS=8
CHECK_CONNECTIONS=16
RESTARTS=5
PORT=18181
PIN=0
BIN=$ROOT/target/release/portico
WARMUP=2
WAIT_QUIET=0
IDLE_SECS=5

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
usage() { awk 'NR > 1 { if (!/^#/ || /shellcheck/) exit; sub(/^# ?/, ""); print }' "$0" >&2; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
    case $1 in
        --pg) PG_BASE=${2:?--pg needs a URL}; shift 2 ;;
        --pg=*) PG_BASE=${1#*=}; shift ;;
        --write) WRITE=1; shift ;;
        --duration) DURATION=${2:?}; shift 2 ;;
        --threads) THREADS=${2:?}; shift 2 ;;
        --connections) CONNECTIONS=${2:?}; shift 2 ;;
        --restarts) RESTARTS=${2:?}; shift 2 ;;
        --port) PORT=${2:?}; shift 2 ;;
        --pin) PIN=1; shift ;;
        --bin) BIN=${2:?}; shift 2 ;;
        --wait-quiet) WAIT_QUIET=${2:?}; shift 2 ;;
        -h | --help) usage 0 ;;
        *) log "unknown argument: $1"; usage ;;
    esac
done
case $BIN in /*) ;; *) BIN=$CALLER_PWD/$BIN ;; esac
for n in DURATION THREADS CONNECTIONS RESTARTS PORT; do
    [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "--${n,,} must be a positive integer"
done
[[ $WAIT_QUIET =~ ^[0-9]+$ ]] || die "--wait-quiet must be a number of minutes"

# --- prerequisites -----------------------------------------------------------

if [ ! -x "$BIN" ]; then
    log "no server binary at $BIN"
    log "build it first:  cargo build --release --locked -p portico-server"
    exit 1
fi

apt_install() {
    [ "$(id -u)" -eq 0 ] || die "$* missing; install it (apt-get install $*) and re-run"
    log "installing $* with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends "$@" >&2 ||
        { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "$@" >&2; }
}
command -v wrk >/dev/null 2>&1 || apt_install wrk
command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
if [ -n "$PG_BASE" ]; then
    command -v psql >/dev/null 2>&1 || apt_install postgresql-client
fi
if [ "$PIN" = 1 ]; then
    command -v taskset >/dev/null 2>&1 || die "--pin needs taskset (util-linux)"
    [ "$(nproc)" -ge 2 ] || die "--pin needs at least 2 CPUs"
fi

# The server runs with its defaults: no portico.toml (it starts in a scratch
# directory) and no PORTICO_* variables from this shell.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^PORTICO_' || true)

# --- state and cleanup -----------------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/portico-bench.XXXXXX")
DATA=$WORK/data
mkdir -p "$DATA"
SERVER_LOG=$WORK/server.log
server_pid=''
pg_db=''
DB_ARGS=()

stop_server() {
    [ -n "$server_pid" ] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        local i
        for ((i = 0; i < 100; i++)); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$server_pid" 2>/dev/null; then
            log "server $server_pid ignored SIGTERM for 10 s; killing it"
            kill -KILL "$server_pid" 2>/dev/null || true
        fi
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=''
}

cleanup() {
    local rc=$?
    stop_server
    if [ -n "$pg_db" ]; then
        psql "$PG_BASE" -X -q -c "DROP DATABASE IF EXISTS \"$pg_db\" WITH (FORCE)" >/dev/null 2>&1 ||
            log "warning: could not drop database $pg_db"
    fi
    if [ "$rc" -ne 0 ] && [ -s "$SERVER_LOG" ]; then
        log "last lines of the server log:"
        tail -n 30 "$SERVER_LOG" >&2
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "error: command failed (line $LINENO): $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# Replace the database name in a postgres:// URL, keeping any ?query.
with_database() {
    local url=$1 db=$2 query=''
    case $url in *\?*) query="?${url#*\?}"; url=${url%%\?*} ;; esac
    case ${url#*://} in */*) url=${url%/*} ;; esac
    printf '%s/%s%s' "$url" "$db" "$query"
}

# Value of a top-level string field in a one-line JSON object (first match).
json_str() {
    grep -o "\"$1\"[[:space:]]*:[[:space:]]*\"[^\"]*\"" | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/'
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# CPU accounting (clock ticks), to show what else ran during a measurement.
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# machine_ticks: "BUSY TOTAL" summed over all CPUs. (Interrupt time is left out
# of the breakdown below: here it is also charged to the interrupted processes.)
machine_ticks() { awk '/^cpu / {b = $2 + $3 + $4 + $7 + $8 + $9; print b, b + $5 + $6; exit}' /proc/stat; }
# all_stats: every process's stat line (cat carries on past processes that exit meanwhile).
all_stats() { cat /proc/[0-9]*/stat 2>/dev/null || true; }
# pg_class PID: "pg" for a PostgreSQL process that works for this run (a backend
# on this run's database, or a shared one such as the WAL writer), else "other"
# (e.g. a backend on another database).
pg_class() {
    local cmd
    cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || { echo other; return; }
    if [ -z "$pg_db" ]; then
        echo other
    elif [[ " $cmd " == *" $pg_db "* ]]; then
        echo pg
    elif [[ $cmd != postgres:* || $cmd =~ :\ (checkpointer|background\ writer|walwriter|autovacuum\ launcher|logical\ replication\ launcher|stats\ collector|archiver) ]]; then
        echo pg
    else
        echo other
    fi
}
# proc_snapshot: "PID TICKS CLASS" for every process; CLASS is server, pg,
# kthread (a kernel thread) or other.
proc_snapshot() {
    local pid ticks class
    all_stats | awk -v srv="$server_pid" '{
        pid = $1; comm = $2; sub(/^.*\) /, ""); ticks = $12 + $13
        if (pid == srv) class = "server"
        else if (pid == 2 || $2 == 2) class = "kthread"
        else if (comm == "(postgres)") class = "postgres"
        else class = "other"
        print pid, ticks, class
    }' | while read -r pid ticks class; do
        [ "$class" != postgres ] || class=$(pg_class "$pid")
        printf '%s %s %s\n' "$pid" "$ticks" "$class"
    done
}
# cpu_shares NAME: shares of all CPUs during run NAME.
# The cpu-NAME.txt fields: busy total server postgres wrk kernel-threads.
# "Everything else" is what the machine was busy with beyond those.
cpu_shares() {
    awk -v pg="$([ "$ENGINE" = postgres ] && echo 1 || echo 0)" '{
        busy = $1; total = $2; if (total <= 0) { print "?"; exit }
        other = busy - $3 - $4 - $5 - $6; if (other < 0) other = 0
        printf "server %.0f%%, wrk %.0f%%", 100 * $3 / total, 100 * $5 / total
        if (pg) printf ", PostgreSQL %.0f%%", 100 * $4 / total
        printf ", kernel threads %.0f%%, everything else %.0f%%", 100 * $6 / total, 100 * other / total
    }' "$WORK/cpu-$1.txt"
}

# --- engine --------------------------------------------------------------------

if [ -n "$PG_BASE" ]; then
    ENGINE=postgres
    pg_version=$(psql "$PG_BASE" -X -A -t -c 'SHOW server_version' 2>/dev/null) ||
        die "cannot connect to PostgreSQL with the --pg URL"
    pg_db="portico_bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
    psql "$PG_BASE" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$pg_db\"" >&2
    DB_ARGS=(--database-url "$(with_database "$PG_BASE" "$pg_db")")
    pg_host=${PG_BASE#*://}; pg_host=${pg_host#*@}; pg_host=${pg_host%%/*}; pg_host=${pg_host%%\?*}
    ENGINE_DESC="PostgreSQL ${pg_version%% *} at $pg_host (same machine), fresh database"
    GET_TARGET=8000
    POST_TARGET=''
else
    ENGINE=sqlite
    ENGINE_DESC="SQLite (embedded), fresh data dir on $(stat -f -c %T "$DATA")"
    GET_TARGET=15000
    POST_TARGET=1500
fi

while port_in_use "$PORT"; do
    PORT=$((PORT + 1))
done
BASE=http://127.0.0.1:$PORT

SERVER_CMD=("$BIN")
WRK_CMD=(wrk)
if [ "$PIN" = 1 ]; then
    SERVER_CMD=(taskset -c 0 "$BIN")
    WRK_CMD=(taskset -c 1 wrk)
fi

start_server() {
    (cd "$WORK" && exec "${SERVER_CMD[@]}" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" "${DB_ARGS[@]}" \
        </dev/null >>"$SERVER_LOG" 2>&1) &
    server_pid=$!
}

# One GET /ready over bash's /dev/tcp (no process spawned): true on HTTP 200.
probe_ready() {
    local line=''
    { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; } 2>/dev/null || return 1
    printf 'GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3 2>/dev/null || true
    IFS= read -r -t 2 line <&3 || true
    exec 3<&- 3>&-
    [[ $line == HTTP/1.?\ 200* ]]
}

# Wait (at most $1 seconds) until /ready answers 200; polls every ~2 ms.
wait_ready() {
    local deadline=$((SECONDS + $1))
    while ! probe_ready; do
        kill -0 "$server_pid" 2>/dev/null || die "the server exited before it was ready"
        [ "$SECONDS" -lt "$deadline" ] || die "the server was not ready within $1 s"
        sleep 0.002
    done
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }

# api METHOD PATH [JSON]: prints the body; fails unless the status is 2xx.
api() {
    local out status data=()
    [ $# -lt 3 ] || data=(--data "$3")
    out=$(curl -sS -X "$1" -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
        "${data[@]}" -w '\n%{http_code}' --max-time 10 "$BASE$2") || die "$1 $2: request failed"
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    [[ $status == 2?? ]] || die "$1 $2 answered $status: $out"
    printf '%s\n' "$out"
}

# --- bootstrap and start ----------------------------------------------------------

# busy_pct SECS: share of all CPUs busy over the next SECS seconds.
busy_pct() {
    local a b
    a=$(machine_ticks)
    sleep "$1"
    b=$(machine_ticks)
    awk -v a="$a" -v b="$b" 'BEGIN {split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; printf "%.0f", (t > 0 ? 100 * (y[1] - x[1]) / t : 0)}'
}
if [ "$WAIT_QUIET" -gt 0 ]; then
    quiet_deadline=$((SECONDS + WAIT_QUIET * 60))
    while busy=$(busy_pct 3) && [ "$busy" -ge 10 ]; do
        if [ "$SECONDS" -ge "$quiet_deadline" ]; then
            log "the machine stayed busy ($busy%) for $WAIT_QUIET min; measuring anyway"
            break
        fi
        log "machine busy ($busy% of the CPUs); waiting for it to be idle"
        sleep 10
    done
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "engine: $ENGINE_DESC"
log "load average before the run: $LOAD_BEFORE (a busy machine lowers every figure)"
log "bootstrapping a fresh instance"
boot=$(cd "$WORK" && "$BIN" bootstrap --json --data-dir "$DATA" "${DB_ARGS[@]}" 2>>"$SERVER_LOG") ||
    die "portico bootstrap failed"
boot=$(printf '%s\n' "$boot" | grep '^[[:space:]]*{' | tail -n 1)
API_KEY=$(json_str api_key <<<"$boot")
[ -n "$API_KEY" ] || die "no api_key in the bootstrap output: $boot"
CLIENT_ID=$(json_str client_id <<<"$boot")
[ -n "$CLIENT_ID" ] || die "no client_id in the bootstrap output: $boot"

log "starting the server on $BASE"
start_server
wait_ready 30

log "idle for ${IDLE_SECS} s, then reading VmRSS"
sleep "$IDLE_SECS"
RSS_START_KB=$(rss_kb)

USER_ID=$(api POST /user_management/users '{"email":"bench-reader@example.com"}' | json_str id)
[ -n "$USER_ID" ] || die "no id in the create-user response"
api GET "/user_management/users/$USER_ID" >/dev/null

# --- wrk runs --------------------------------------------------------------------------

# run_wrk NAME SECONDS URL [LUA_SCRIPT [SCRIPT_ARGS...]]: keeps the report in
# $WORK/wrk-NAME.txt. RUN_CONNECTIONS overrides --connections for one run.
run_wrk() {
    local name=$1 secs=$2 url=$3 script=() connections=${RUN_CONNECTIONS:-$CONNECTIONS}
    shift 3
    if [ $# -gt 0 ]; then
        script=(-s "$1")
        shift
    fi
    local m0 m1 c_server c_pg c_kthread TIMEFORMAT='%3U %3S'
    proc_snapshot >"$WORK/snap0-$name.txt"
    m0=$(machine_ticks)
    { time "${WRK_CMD[@]}" -t "$THREADS" -c "$connections" -d "${secs}s" --latency --timeout 5s \
        -H "Authorization: Bearer $API_KEY" "${script[@]}" "$url" ${1+--} "$@" >"$WORK/wrk-$name.txt" 2>&1; } \
        2>"$WORK/time-$name.txt" ||
        { cat "$WORK/wrk-$name.txt" >&2; die "wrk failed ($name)"; }
    m1=$(machine_ticks)
    proc_snapshot >"$WORK/snap1-$name.txt"
    # Per process: ticks at the end minus ticks at the start (0 for one started
    # meanwhile), summed by class.
    read -r c_server c_pg c_kthread < <(awk 'NR == FNR {t0[$1] = $2; next}
        {d = $2 - (($1 in t0) ? t0[$1] : 0); if (d > 0) sum[$3] += d}
        END {print sum["server"] + 0, sum["pg"] + 0, sum["kthread"] + 0}' "$WORK/snap0-$name.txt" "$WORK/snap1-$name.txt")
    # busy total server postgres wrk kernel-threads (ticks)
    awk -v m0="$m0" -v m1="$m1" -v s="$c_server" -v p="$c_pg" -v k="$c_kthread" -v hz="$CLK_TCK" '
        NR == 1 {
            split(m0, a, " "); split(m1, b, " ")
            print b[1] - a[1], b[2] - a[2], s, p, ($1 + $2) * hz, k
        }' "$WORK/time-$name.txt" >"$WORK/cpu-$name.txt"
}

wrk_rps() { awk '/^Requests\/sec:/ {print $2}' "$WORK/wrk-$1.txt"; }
wrk_total() { awk '/ requests in / {print $1}' "$WORK/wrk-$1.txt"; }
wrk_pct() { awk -v p="$2%" '$1 == p {print $2}' "$WORK/wrk-$1.txt"; }
wrk_bad() {
    awk '/Non-2xx or 3xx responses:/ {n += $NF}
         /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10}
         END {print n + 0}' "$WORK/wrk-$1.txt"
}

wrk_desc=$({ wrk -v 2>&1 || true; } | awk 'NR == 1 {print $1, $2}')
log "wrk warm-up (${WARMUP} s) on GET /user_management/users/{id}"
run_wrk warmup "$WARMUP" "$BASE/user_management/users/$USER_ID"
log "wrk ${DURATION} s: GET /user_management/users/{id}"
run_wrk get_user "$DURATION" "$BASE/user_management/users/$USER_ID"
log "wrk ${DURATION} s: GET /health (the floor)"
run_wrk health "$DURATION" "$BASE/health"

# The hosted sign-in page, as a browser in a flow sees it: one flow lookup and a
# rendered template per request. Latency is the target here, so the run uses
# the connections of a busy login page rather than a saturating load.
flow_cookie=$(curl -sS -o /dev/null -D - --max-time 10 \
    "$BASE/user_management/authorize?client_id=$CLIENT_ID&redirect_uri=http://localhost:3000/callback&response_type=code&state=bench" |
    awk 'tolower($1) == "set-cookie:" && $2 ~ /^portico_flow=/ {sub(/;.*/, "", $2); print $2}')
[ -n "$flow_cookie" ] || die "/user_management/authorize set no flow cookie"
page_status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: $flow_cookie" "$BASE/sign-in")
[ "$page_status" = 200 ] || die "GET /sign-in answered $page_status"
log "wrk ${DURATION} s: GET /sign-in (hosted page, ${PAGE_CONNECTIONS} connections)"
RUN_CONNECTIONS=$PAGE_CONNECTIONS run_wrk sign_in_page "$DURATION" "$BASE/sign-in" "$ROOT/bench/sign_in_page.lua" "$flow_cookie"

# The permission check, as an app's middleware calls it: one membership, one
# permission its role grants. Latency is the target, so the run uses the
# connections of an app's connection pool rather than a saturating load.
api POST /authorization/permissions '{"slug":"reports:read","name":"Read reports"}' >/dev/null
api POST /authorization/roles '{"slug":"analyst","name":"Analyst"}' >/dev/null
api PUT /authorization/roles/analyst/permissions '{"permissions":["reports:read"]}' >/dev/null
CHECK_ORG=$(api POST /organizations '{"name":"Bench Check Org"}' | json_str id)
CHECK_OM=$(api POST /user_management/organization_memberships \
    "{\"user_id\":\"$USER_ID\",\"organization_id\":\"$CHECK_ORG\",\"role_slug\":\"analyst\"}" | json_str id)
[ -n "$CHECK_OM" ] || die "no membership id for the check run"
CHECK_URL="$BASE/authorization/organization_memberships/$CHECK_OM/check"
api POST "/authorization/organization_memberships/$CHECK_OM/check" '{"permission_slug":"reports:read"}' |
    grep -q '"authorized":true' || die "the check run's membership is not authorized"
log "wrk ${DURATION} s: POST …/check (permission check, ${CHECK_CONNECTIONS} connections)"
RUN_CONNECTIONS=$CHECK_CONNECTIONS run_wrk check "$DURATION" "$CHECK_URL" "$ROOT/bench/check.lua" reports:read
# The same request up to the point where the check would start: API key, JSON body, an answer
# (404 for a malformed membership id, so no database work). The bound for the check's own cost.
log "wrk ${DURATION} s: POST …/check answered before the database (the check's floor)"
RUN_CONNECTIONS=$CHECK_CONNECTIONS run_wrk check_floor "$DURATION" \
    "$BASE/authorization/organization_memberships/not-a-membership/check" "$ROOT/bench/check.lua" reports:read

# Memberships: a users x orgs grid big enough for every request to create a
# new pair (sized for up to 25,000 requests/s over the run).
need=$((DURATION * 25000))
GRID=1
while ((GRID * GRID < need)); do GRID=$((GRID + 1)); done
log "creating $GRID users and $GRID organizations for the membership run"
: >"$WORK/users.txt"
: >"$WORK/orgs.txt"
for ((i = 1; i <= GRID; i++)); do
    id=$(api POST /user_management/users "{\"email\":\"bench-member-$i@example.com\"}" | json_str id)
    [ -n "$id" ] || die "no id in the create-user response"
    echo "$id" >>"$WORK/users.txt"
    id=$(api POST /organizations "{\"name\":\"Bench Org $i\"}" | json_str id)
    [ -n "$id" ] || die "no id in the create-organization response"
    echo "$id" >>"$WORK/orgs.txt"
done
# Check the request shape once, with a pair the wrk run will not reach.
u=$(tail -n 1 "$WORK/users.txt")
o=$(tail -n 1 "$WORK/orgs.txt")
api POST /user_management/organization_memberships "{\"user_id\":\"$u\",\"organization_id\":\"$o\"}" >/dev/null

log "wrk ${DURATION} s: POST /user_management/organization_memberships (a new pair each request)"
run_wrk memberships "$DURATION" "$BASE/user_management/organization_memberships" \
    "$ROOT/bench/memberships.lua" "$WORK/users.txt" "$WORK/orgs.txt" "$THREADS"
membership_total=$(wrk_total memberships)
# The last cell (GRID*GRID-1) was used by the check above.
if ((membership_total >= GRID * GRID - 1)); then
    die "the membership run sent $membership_total requests but the grid has only $((GRID * GRID - 1)) new pairs; raise the grid size in bench/run.sh"
fi

log "idle for ${IDLE_SECS} s after the load, then reading VmRSS"
sleep "$IDLE_SECS"
RSS_AFTER_KB=$(rss_kb)

# --- start-up time ---------------------------------------------------------------

stop_server
STARTS_MS=()
for ((r = 1; r <= RESTARTS; r++)); do
    t0=$EPOCHREALTIME
    start_server
    wait_ready 30
    t1=$EPOCHREALTIME
    STARTS_MS+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}')")
    stop_server
done
log "start to ready (ms): ${STARTS_MS[*]}"
read -r START_MEDIAN START_MIN START_MAX < <(printf '%s\n' "${STARTS_MS[@]}" | sort -n |
    awk '{v[NR] = $1} END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.0f %d %d\n", m, v[1], v[NR]}')

BIN_BYTES=$(stat -c %s "$BIN")

# --- report -----------------------------------------------------------------------------

commas() { awk -v n="$1" 'BEGIN {s = sprintf("%.0f", n); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); sub(/,,/, ",", s); print s}'; }
mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b / 1e6}'; }
verdict_min() { awk -v v="$1" -v t="$2" 'BEGIN {print (v >= t) ? "meets" : "misses"}'; }
verdict_max() { awk -v v="$1" -v t="$2" 'BEGIN {print (v <= t) ? "meets" : "misses"}'; }
pct_of() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.0f%%", 100 * a / b; else print "?"}'; }

health_rps=$(wrk_rps health)
rate_cell() { # NAME
    printf '%s req/s (p50 %s, p99 %s)' "$(commas "$(wrk_rps "$1")")" "$(wrk_pct "$1" 50)" "$(wrk_pct "$1" 99)"
}
rate_verdict() { # NAME TARGET
    local bad
    bad=$(wrk_bad "$1")
    if [ "$bad" -gt 0 ]; then
        printf 'invalid: %s non-2xx responses or socket errors' "$bad"
    elif [ -n "$2" ]; then
        verdict_min "$(wrk_rps "$1")" "$2"
    else
        printf 'no target'
    fi
}
# p99 in wrk's units (us, ms, s) compared with 10 ms.
page_verdict() { # NAME
    local bad
    bad=$(wrk_bad "$1")
    if [ "$bad" -gt 0 ]; then
        printf 'invalid: %s non-2xx responses or socket errors' "$bad"
        return
    fi
    wrk_pct "$1" 99 | awk '{v = $1; if (v ~ /us$/) ms = v / 1000; else if (v ~ /ms$/) ms = v + 0; else ms = v * 1000;
        print (ms <= 10) ? "meets" : "misses"}'
}
# Both the rate (≥ 20,000 req/s) and p99 (≤ 5 ms).
check_verdict() { # NAME
    local bad
    bad=$(wrk_bad "$1")
    if [ "$bad" -gt 0 ]; then
        printf 'invalid: %s non-2xx responses or socket errors' "$bad"
        return
    fi
    wrk_pct "$1" 99 | awk -v rps="$(wrk_rps "$1")" '{v = $1; if (v ~ /us$/) ms = v / 1000; else if (v ~ /ms$/) ms = v + 0; else ms = v * 1000;
        print (ms <= 5 && rps >= 20000) ? "meets" : "misses"}'
}
floor_cell() { # NAME
    printf '`GET /health`: %s req/s (this call at %s of it)' "$(commas "$health_rps")" "$(pct_of "$(wrk_rps "$1")" "$health_rps")"
}

cpu_model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
[ -n "$cpu_model" ] || cpu_model=$(lscpu 2>/dev/null | awk -F': *' '/Model name/ {print $2; exit}')
mem_gib=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
# shellcheck disable=SC1091
os_name=$(. /etc/os-release 2>/dev/null && printf '%s' "${PRETTY_NAME:-Linux}")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo 'no commit')
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit+=" (with local changes)"; fi
server_version=$("$BIN" --version 2>/dev/null | head -n 1 || true)
if [ "$PIN" = 1 ]; then
    placement="server pinned to CPU 0 and wrk to CPU 1 (taskset)"
else
    placement="no CPU pinning: server and wrk share all $(nproc) CPUs"
fi
engine_title=$([ "$ENGINE" = sqlite ] && echo SQLite || echo PostgreSQL)
get_target_txt="≥ $(commas "$GET_TARGET") req/s"
post_target_txt=$([ -n "$POST_TARGET" ] && echo "≥ $(commas "$POST_TARGET") req/s" || echo "—")

# Runs during which other processes took more than 10% of the machine.
other_share() { awk '{o = $1 - $3 - $4 - $5 - $6; if ($2 > 0) printf "%.0f", 100 * (o < 0 ? 0 : o) / $2; else print 0}' "$WORK/cpu-$1.txt"; }
busy_runs=''
for run in get_user health sign_in_page check memberships; do
    case $run in
        check) label='`POST …/check`' ;;
        get_user) label='`GET /user_management/users/{id}`' ;;
        sign_in_page) label='`GET /sign-in`' ;;
        health) label='`GET /health`' ;;
        memberships) label='`POST /user_management/organization_memberships`' ;;
    esac
    share=$(other_share "$run")
    if [ "$share" -gt 10 ]; then
        busy_runs+="${busy_runs:+,} $label ($share%)"
        log "warning: other processes used $share% of the CPUs during the $label run"
    fi
done

SECTION=$WORK/section.md
{
    printf '## %s\n\n' "$engine_title"
    printf 'Measured %s on commit `%s`%s by `bench/run.sh%s`.\n\n' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$commit" "${server_version:+ (${server_version})}" \
        "$([ -n "$PG_BASE" ] && echo ' --pg …')"
    printf -- '- Machine: %s CPUs (`nproc`), %s, %s GiB RAM, %s, Linux %s; load average before the run %s\n' \
        "$(nproc)" "$cpu_model" "$mem_gib" "$os_name" "$(uname -r)" "$LOAD_BEFORE"
    printf -- '- Engine: %s\n' "$ENGINE_DESC"
    printf -- '- Server: `portico serve` with its default configuration (no `portico.toml`, no `PORTICO_*` variables), logging to a file\n'
    printf -- '- Load: %s on the same machine over 127.0.0.1, %s threads, %s connections, %s s per run after a %s s warm-up, keep-alive, `Authorization` header on every request; %s\n' \
        "$wrk_desc" "$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP" "$placement"
    printf -- '- Start-up: process start to the first 200 on `GET /ready` on the existing database, polled every ~2 ms, %s runs\n\n' "$RESTARTS"
    printf '| Measure | Result | Target | Bound measured in the same run | Verdict |\n'
    printf '|---|---|---|---|---|\n'
    printf '| `GET /user_management/users/{id}` | %s | %s | %s | %s |\n' \
        "$(rate_cell get_user)" "$get_target_txt" "$(floor_cell get_user)" "$(rate_verdict get_user "$GET_TARGET")"
    printf '| `GET /sign-in`, hosted page in a sign-in flow (%s connections) | %s | p99 ≤ 10 ms | %s | %s |\n' \
        "$PAGE_CONNECTIONS" "$(rate_cell sign_in_page)" "$(floor_cell sign_in_page)" "$(page_verdict sign_in_page)"
    printf '| `POST /authorization/organization_memberships/{id}/check` (%s connections) | %s | ≥ 20,000 req/s, p99 ≤ 5 ms | %s | %s |\n' \
        "$CHECK_CONNECTIONS" "$(rate_cell check)" "$(floor_cell check); the same POST answered before any database work (404 for a malformed id): $(commas "$(wrk_rps check_floor)") req/s (the check at $(pct_of "$(wrk_rps check)" "$(wrk_rps check_floor)") of it)" "$(check_verdict check)"
    printf '| `POST /user_management/organization_memberships` (new pair each time) | %s | %s | %s | %s |\n' \
        "$(rate_cell memberships)" "$post_target_txt" "$(floor_cell memberships)" "$(rate_verdict memberships "$POST_TARGET")"
    printf '| Idle RSS, %s s after start | %s | ≤ 50 MB | — | %s |\n' \
        "$IDLE_SECS" "$(mb $((RSS_START_KB * 1024)))" "$(verdict_max $((RSS_START_KB * 1024)) 50000000)"
    printf '| Idle RSS, %s s after the load above | %s | ≤ 50 MB | — | %s |\n' \
        "$IDLE_SECS" "$(mb $((RSS_AFTER_KB * 1024)))" "$(verdict_max $((RSS_AFTER_KB * 1024)) 50000000)"
    printf '| Start → first 200 on `/ready` (existing database), median of %s | %s ms (min %s, max %s) | ≤ 1,000 ms | — | %s |\n' \
        "$RESTARTS" "$START_MEDIAN" "$START_MIN" "$START_MAX" "$(verdict_max "$START_MEDIAN" 1000)"
    printf '| Release binary size (`%s`) | %s | ≤ 50 MB | — | %s |\n' \
        "${BIN#"$ROOT"/}" "$(mb "$BIN_BYTES")" "$(verdict_max "$BIN_BYTES" 50000000)"
    printf '\nShare of all %s CPUs used during each run (from `/proc`): `GET /user_management/users/{id}`: %s; `GET /health`: %s; memberships: %s.\n' \
        "$(nproc)" "$(cpu_shares get_user)" "$(cpu_shares health)" "$(cpu_shares memberships)"
    if [ -n "$busy_runs" ]; then
        printf '\n**Not a quiet machine:** other processes used more than 10%% of the CPUs during the runs of%s; those figures are lower than this machine gives when idle.\n' "$busy_runs"
    fi
    printf '\nMB = 10^6 bytes. RSS is `VmRSS` from `/proc/PID/status`.\n'
} >"$SECTION"

cat "$SECTION"

if [ "$WRITE" = 1 ]; then
    file=$ROOT/BENCHMARKS.md
    begin="<!-- bench:$ENGINE:begin -->"
    end="<!-- bench:$ENGINE:end -->"
    if [ ! -f "$file" ]; then
        {
            printf '# Benchmarks\n\n'
            printf 'Written by `bench/run.sh --write` (see `bench/README.md`); each engine'"'"'s section is\n'
            printf 'replaced when the script runs again. Every throughput figure stands next to\n'
            printf 'the bound measured in the same run: the same tool against `GET /health`,\n'
            printf 'which does no database work.\n'
        } >"$file"
    fi
    if grep -qxF "$begin" "$file"; then
        awk -v b="$begin" -v e="$end" -v f="$SECTION" '
            $0 == b { print; while ((getline line < f) > 0) print line; skip = 1; next }
            $0 == e { skip = 0 }
            !skip { print }' "$file" >"$file.tmp"
        mv "$file.tmp" "$file"
    elif [ "$ENGINE" = sqlite ] && grep -qxF '<!-- bench:postgres:begin -->' "$file"; then
        # Keep SQLite first.
        awk -v b="$begin" -v e="$end" -v f="$SECTION" '
            $0 == "<!-- bench:postgres:begin -->" {
                print b; while ((getline line < f) > 0) print line; print e; print ""
            }
            { print }' "$file" >"$file.tmp"
        mv "$file.tmp" "$file"
    else
        { printf '\n%s\n' "$begin"; cat "$SECTION"; printf '%s\n' "$end"; } >>"$file"
    fi
    log "updated $file ($engine_title section)"
fi
