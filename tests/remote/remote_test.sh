#!/usr/bin/env bash
# Remote-firmware tests: start `aimc serve` in a temporary folder, run clients against it, check
# how the server ends. Every wait is bounded; the server is always killed at the end.
#
#   remote_test.sh SCENARIO AIMC PROTOCOL_CLIENT RAW_CLIENT
# Scenarios:
#   protocol      --once on a Unix socket; the protocol client (registers, DMA round trip, bus
#                 error, interrupts, 20 MiB chunked sync); the server must exit 0 after it
#   protocol-tcp  the same on tcp:127.0.0.1:0 (the port is read from the server's log)
#   garbage-once  --once; a client sends garbage and is dropped; the server exits 0
#   robustness    no --once; a row of misbehaving clients, then one that checks the abandoned
#                 buffers were freed and sends SHUTDOWN; the server exits 0
#   client-lost   the C client against a fake server that hangs up (no aimc needed)
#   stop          SIGTERM with a client connected, SIGINT with none: the outputs are still written
#   address       bad --listen addresses are refused with exit code 2 and a message
set -u
SCENARIO=$1
AIMC=$2
PROTO=$3
RAW=$4
export SC_COPYRIGHT_MESSAGE=DISABLE

base=${TMPDIR:-/tmp}
[ ${#base} -gt 60 ] && base=/tmp  # Unix socket paths are limited to 107 bytes
DIR=$(mktemp -d "$base/aimc-remote.XXXXXX") || exit 1
SOCK="$DIR/vp.sock"
LOG="$DIR/server.log"
SERVER_PID=""

cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [ -f "$LOG" ]; then
    echo "---- server log ----" >&2
    cat "$LOG" >&2
  fi
  exit 1
}

# start_server ARGS...: starts aimc serve in the background and waits (at most 20 s) until it
# listens, i.e. its log says so.
start_server() {
  "$AIMC" serve "$@" 2>"$LOG" &
  SERVER_PID=$!
  for _ in $(seq 1 200); do
    grep -q "listening on" "$LOG" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited before listening"
    sleep 0.1
  done
  fail "the server did not listen within 20 s"
}

# wait_server: waits (at most 20 s) for the server to exit; sets SERVER_RC.
wait_server() {
  for _ in $(seq 1 200); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID"
      SERVER_RC=$?
      SERVER_PID=""
      return 0
    fi
    sleep 0.1
  done
  fail "the server did not exit within 20 s"
}

# client CMD...: runs a client with a 30 s limit; fails the test if it fails.
client() {
  timeout 30 "$@" || fail "client '$*' exited with $?"
}

case "$SCENARIO" in
  protocol)
    start_server --listen "unix:$SOCK" --once
    [ -S "$SOCK" ] || fail "no socket file at $SOCK"
    client "$PROTO" --connect "unix:$SOCK" -- --big
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    grep -q "said goodbye" "$LOG" || fail "the server did not see BYE"
    grep -q "simulated time" "$LOG" || fail "no summary"
    [ -e "$SOCK" ] && fail "the socket file was not removed"
    ;;
  protocol-tcp)
    start_server --listen "tcp:127.0.0.1:0" --once --trace "$DIR/trace.json"
    ADDR=$(sed -n 's/.*listening on \(tcp:[^ ]*\).*/\1/p' "$LOG" | head -n1)
    [ -n "$ADDR" ] || fail "no tcp address in the server log"
    AIMC_REMOTE="$ADDR" client "$PROTO"  # address from the environment
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    [ -s "$DIR/trace.json" ] || fail "no trace written"
    ;;
  garbage-once)
    start_server --listen "unix:$SOCK" --once
    client "$RAW" garbage "unix:$SOCK"
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC after a garbage client"
    grep -q "unknown opcode" "$LOG" || fail "the server did not log the unknown opcode"
    ;;
  robustness)
    start_server --listen "unix:$SOCK" --allow-shutdown
    for mode in garbage toolong nohello badversion malformed abandon midframe; do
      client "$RAW" "$mode" "unix:$SOCK"
      kill -0 "$SERVER_PID" 2>/dev/null || fail "the server died after client '$mode'"
    done
    client "$RAW" reclaim "unix:$SOCK"
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    grep -q "freed 3 DMA buffer" "$LOG" || fail "abandoned buffers were not reported freed"
    grep -q "above the limit" "$LOG" || fail "oversized length not logged"
    grep -q "asked the server to shut down" "$LOG" || fail "SHUTDOWN not logged"
    ;;
  fresh-session)
    # Chip state does not leak from one client to the next (CTRL.FULL_RESET per session).
    start_server --listen "unix:$SOCK" --allow-shutdown
    client "$RAW" dirty "unix:$SOCK"
    client "$RAW" clean "unix:$SOCK"
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    ;;
  client-lost)
    client "$RAW" lost "unix:$SOCK"
    ;;
  starvation)
    # No client can hold the server: one stalled mid-frame is dropped after --frame-timeout, one
    # silent after --idle-timeout; a client that connects meanwhile is answered busy at once.
    start_server --listen "unix:$SOCK" --allow-shutdown --frame-timeout 1 --idle-timeout 2
    [ "$(stat -c %a "$SOCK")" = "600" ] || fail "socket mode $(stat -c %a "$SOCK"), expected 600 (owner only)"
    timeout 30 "$RAW" stall "unix:$SOCK" &
    STALL_PID=$!
    sleep 0.3
    client "$RAW" busy "unix:$SOCK"
    wait "$STALL_PID" || fail "the stalled client's expectations failed"
    grep -q "stalled in the middle of a request header" "$LOG" || fail "the stall was not logged"
    grep -q "answered busy" "$LOG" || fail "the busy answer was not logged"
    client "$RAW" idle "unix:$SOCK"
    grep -q "no request for 2 s" "$LOG" || fail "the idle drop was not logged"
    client "$RAW" reclaim "unix:$SOCK"  # the server still serves: SHUTDOWN
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    ;;
  drain)
    # A client leaves a long command running (a tile erase of 10 sectors x 0.2 s): the server
    # finishes it before the next session and answers a client that connects meanwhile busy, at
    # once, instead of leaving it in silence; then serves the next client as usual.
    start_server --listen "unix:$SOCK" --allow-shutdown --set programming.t_erase_ns=2e8
    client "$RAW" leave "unix:$SOCK"
    client "$RAW" busy "unix:$SOCK"
    client "$RAW" patient "unix:$SOCK"
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    grep -q "or what it left running finishes): answered busy" "$LOG" || fail "the busy answer was not logged"
    ;;
  secret)
    # No one gets in who does not belong: with --secret-file every HELLO must carry the secret
    # (the remote HAL reads $AIMC_REMOTE_SECRET_FILE); a non-loopback address needs
    # --allow-any-address and a secret (only refusals here: tests listen on loopback only).
    printf 'correct-horse-battery\n' >"$DIR/secret"
    chmod 644 "$DIR/secret"
    timeout 30 "$AIMC" serve --listen "unix:$SOCK" --secret-file "$DIR/secret" --once 2>"$LOG"
    [ $? -eq 2 ] || fail "a secret file others may read was accepted"
    grep -q "others may read it" "$LOG" || fail "no message about the secret file's mode"
    chmod 600 "$DIR/secret"
    printf 'wrong-secret\n' >"$DIR/wrong"
    timeout 30 "$AIMC" serve --listen tcp:0.0.0.0:0 --allow-any-address --once 2>"$LOG"
    [ $? -eq 2 ] || fail "--allow-any-address without --secret-file was accepted"
    grep -q -- "needs --secret-file" "$LOG" || fail "no message asking for --secret-file"
    timeout 30 "$AIMC" serve --listen tcp:0.0.0.0:0 --secret-file "$DIR/secret" --once 2>"$LOG"
    [ $? -eq 2 ] || fail "a non-loopback address without --allow-any-address was accepted"
    start_server --listen "unix:$SOCK" --secret-file "$DIR/secret" --once
    timeout 30 "$PROTO" --connect "unix:$SOCK" 2>"$DIR/nosecret.log" && fail "a client without the secret got in"
    grep -q "may want a shared secret" "$DIR/nosecret.log" || fail "the client was not told why"
    AIMC_REMOTE_SECRET_FILE="$DIR/wrong" timeout 30 "$PROTO" --connect "unix:$SOCK" 2>/dev/null &&
      fail "a client with a wrong secret got in"
    AIMC_REMOTE_SECRET_FILE="$DIR/secret" client "$PROTO" --connect "unix:$SOCK"
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    grep -q "HELLO without shared secret" "$LOG" || fail "the refusal without a secret was not logged"
    grep -q "HELLO with a wrong shared secret" "$LOG" || fail "the refusal of a wrong secret was not logged"
    ;;
  no-shutdown)
    # SHUTDOWN is the operator's to allow: refused by default, the server goes on.
    start_server --listen "unix:$SOCK" --once
    client "$RAW" noshutdown "unix:$SOCK"
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    grep -q "SHUTDOWN refused" "$LOG" || fail "the refused SHUTDOWN was not logged"
    ;;
  stop)
    # SIGTERM or SIGINT stop the server at a request boundary (a connected client is let go), and
    # it still writes its summary, checkpoint and trace; exit code 128 + the signal.
    start_server --listen "unix:$SOCK" --trace "$DIR/t.json" --checkpoint "$DIR/c.ckpt"
    timeout 30 "$RAW" idle "unix:$SOCK" >/dev/null 2>&1 &
    IDLE_PID=$!
    for _ in $(seq 1 100); do grep -q "client 1 connected" "$LOG" && break; sleep 0.1; done
    grep -q "client 1 connected" "$LOG" || fail "the idle client did not connect"
    kill -TERM "$SERVER_PID"
    wait_server
    kill "$IDLE_PID" 2>/dev/null; wait "$IDLE_PID" 2>/dev/null
    [ "$SERVER_RC" -eq 143 ] || fail "server exit code $SERVER_RC after SIGTERM, expected 143"
    grep -q "the server is stopping; closing the connection" "$LOG" || fail "the client's end was not logged"
    grep -Eq "stopped by +SIGTERM" "$LOG" || fail "the summary does not say SIGTERM stopped it"
    [ -s "$DIR/c.ckpt" ] || fail "no checkpoint written"
    /usr/bin/python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$DIR/t.json" ||
      fail "the trace is not valid JSON"
    [ -e "$SOCK" ] && fail "the socket file was left behind"
    # No client: SIGINT while the server waits for one.
    start_server --listen "unix:$SOCK"
    kill -INT "$SERVER_PID"
    wait_server
    [ "$SERVER_RC" -eq 130 ] || fail "server exit code $SERVER_RC after SIGINT, expected 130"
    grep -Eq "stopped by +SIGINT" "$LOG" || fail "the summary does not say SIGINT stopped it"
    ;;
  address)
    for a in tcp:0.0.0.0:5555 tcp:192.168.1.10:5555 tcp:127.0.0.1:99999 bogus:x unix:; do
      timeout 30 "$AIMC" serve --listen "$a" --once 2>"$LOG"
      rc=$?
      [ "$rc" -eq 2 ] || fail "--listen $a: exit code $rc, expected 2"
      grep -q -- "--listen $a" "$LOG" || fail "--listen $a: no message naming the address"
    done
    echo "not a socket" >"$DIR/file"
    timeout 30 "$AIMC" serve --listen "unix:$DIR/file" --once 2>"$LOG"
    [ $? -eq 2 ] || fail "a regular file at the socket path was not refused"
    [ -f "$DIR/file" ] || fail "the regular file was removed"
    # A live server's socket is not stolen by a second server.
    start_server --listen "unix:$SOCK"
    timeout 30 "$AIMC" serve --listen "unix:$SOCK" --once 2>"$DIR/second.log"
    [ $? -eq 2 ] || fail "a second server took over a live socket"
    kill -0 "$SERVER_PID" 2>/dev/null || fail "the first server died"
    # A server killed outright leaves its socket file; the next one replaces it.
    kill -9 "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
    [ -S "$SOCK" ] || fail "expected a stale socket file after kill -9"
    start_server --listen "unix:$SOCK" --allow-shutdown
    client "$RAW" reclaim "unix:$SOCK"  # SHUTDOWN
    wait_server
    [ "$SERVER_RC" -eq 0 ] || fail "server exit code $SERVER_RC"
    ;;
  *)
    echo "remote_test.sh: unknown scenario '$SCENARIO'" >&2
    exit 2
    ;;
esac
echo "remote $SCENARIO: ok"
exit 0
