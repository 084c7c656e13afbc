#!/usr/bin/env bash
# aimc sweep --backend slurm end to end, on a single-node Slurm this script starts and stops
# itself (docs/sweeps.md, "On a cluster"): munged, slurmctld and slurmd from Debian's munge and
# slurm-wlm, configured in a temporary folder on 127.0.0.1 with free ports, as root, no systemd.
# It runs a 3-axis sweep of the bundled MLP locally and through Slurm (chunks of 3 runs per array
# task) and checks that the tables are identical; a second Slurm sweep resumes without submitting
# anything; every daemon it started is stopped at the end, whatever happens.
#
#   slurm_sweep.sh AIMC
# Exit 0 on pass, 77 (skip) when not root or Slurm/munge are missing, unless
# AIMC_REQUIRE_SLURM=1 (CI: scripts/setup.sh installs them), then 1.
set -u
AIMC=$1
export SC_COPYRIGHT_MESSAGE=DISABLE

skip() {
  if [ "${AIMC_REQUIRE_SLURM:-0}" = "1" ]; then echo "FAIL: $* (AIMC_REQUIRE_SLURM=1)" >&2; exit 1; fi
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (munged and slurmd run as root here)"
for p in munged slurmctld slurmd sbatch squeue scancel scontrol sinfo; do
  command -v "$p" >/dev/null || [ -x "/usr/sbin/$p" ] || skip "$p not found (packages slurm-wlm and munge)"
done
export PATH="$PATH:/usr/sbin"

T=$(mktemp -d /tmp/aimc-slurm.XXXXXX) || exit 1  # short: the munge socket path has a length limit
chmod 755 "$T"
export SLURM_CONF="$T/slurm.conf"
MUNGE_SOCK="$T/munge/munge.sock"

cleanup() {
  if [ -f "$T/slurmctld.pid" ] || [ -f "$T/slurmd.pid" ]; then
    timeout 10 scontrol shutdown >/dev/null 2>&1
  fi
  for f in slurmctld.pid slurmd.pid munge/munged.pid; do
    [ -f "$T/$f" ] || continue
    pid=$(cat "$T/$f" 2>/dev/null)
    [ -n "$pid" ] || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; kill "$pid" 2>/dev/null; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for f in "$T"/slurmctld.log "$T"/slurmd.log "$T"/munge/munged.log "$T"/sweep.err; do
    [ -s "$f" ] && { echo "---- $f" >&2; tail -20 "$f" >&2; }
  done
  exit 1
}

# munge: its own key and socket in the folder.
mkdir -p "$T/munge" "$T/state" "$T/spool"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$T/munge/munge.key"
munged --force --socket="$MUNGE_SOCK" --key-file="$T/munge/munge.key" --log-file="$T/munge/munged.log" \
  --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" || fail "munged did not start"
chmod 755 "$T/munge"  # the socket must be reachable (root only uses it here)

read -r CTLD_PORT SLURMD_PORT < <(/usr/bin/python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat >"$SLURM_CONF" <<CONF
ClusterName=aimctest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCK
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
InactiveLimit=0
MinJobAge=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=aimc Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
slurmctld -c -i || fail "slurmctld did not start"
slurmd -N localhost || fail "slurmd did not start"
for _ in $(seq 1 300); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 0.1
done
sinfo -h -o %t 2>/dev/null | grep -q idle || fail "the node did not become idle within 30 s"
echo "slurm: $(sinfo -h -o '%P %a %D %t')"

cat >"$T/mlp.yaml" <<'SPEC'
limit: 10
axes:
  tile.adc.bits: [6, 8]
  tile.dac.bits: [6, 8]
  tile.adc.share: [1, 4]
SPEC
timeout 300 "$AIMC" sweep "$T/mlp.yaml" -o "$T/local" -j 2 --no-progress 2>"$T/sweep.err" ||
  fail "the local sweep failed"
timeout 300 "$AIMC" sweep "$T/mlp.yaml" -o "$T/slurm" --backend slurm --chunk 3 --poll-ms 300 --no-progress \
  2>"$T/sweep.err" || fail "the Slurm sweep failed"
grep -q "Slurm job [0-9]*: 3 array task(s) of up to 3 run(s)" "$T/sweep.err" || fail "no job array of 3 tasks"
ls "$T"/slurm/slurm/submission-1/task-*.log >/dev/null 2>&1 || fail "no array task logs"
for t in results.csv summary.csv; do
  cmp -s "$T/local/$t" "$T/slurm/$t" || { diff "$T/local/$t" "$T/slurm/$t" | head -5 >&2; fail "$t differs between the local and the Slurm sweep"; }
done
[ "$(grep -c ',ok,' "$T/slurm/results.csv")" -eq 8 ] || fail "the Slurm sweep has not 8 ok runs"
# Resume: everything is done, nothing is submitted.
timeout 300 "$AIMC" sweep "$T/mlp.yaml" -o "$T/slurm" --backend slurm --no-progress 2>"$T/sweep.err" ||
  fail "the resumed Slurm sweep failed"
grep -q "8 already done" "$T/sweep.err" || fail "the resumed sweep ran again"
[ ! -e "$T/slurm/slurm/submission-2" ] || fail "the resumed sweep submitted a job"
echo "ok: 8 runs locally and as a Slurm job array of 3 tasks, identical tables; resumed without a job"
