#!/usr/bin/env bash
# A throw-away single-node SLURM (slurmctld + slurmd + munged, no slurmdbd, no systemd) for
# tests/test_slurm.py. Needs root. Usage:
#   tests/slurm/cluster.sh install   # apt-get install slurmctld slurmd slurm-client munge if missing
#   tests/slurm/cluster.sh start     # write /etc/slurm/{slurm,gres}.conf, start daemons, wait for idle
#   tests/slurm/cluster.sh stop      # stop what start started, by pid; restore /etc/slurm
# The config must be /etc/slurm/slurm.conf: the jobstep plugin drops SLURM_CONF before srun.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
STATE="${YOLOSHRINK_SLURM_STATE:-/var/tmp/yoloshrink-slurm}"
HOST="$(hostname -s)"

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v sbatch >/dev/null && command -v munged >/dev/null; then
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge \
        || { apt-get update && apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge; }
}

stop_pidfile() {  # stop_pidfile FILE: TERM, wait, KILL the one process named in FILE
    local f="$1" pid
    [ -s "$f" ] || return 0
    pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

start() {
    [ "$(id -u)" = 0 ] || { echo "cluster.sh start needs root" >&2; exit 2; }
    if [ -e "$STATE/started" ]; then echo "already started ($STATE)" >&2; exit 3; fi
    mkdir -p "$STATE/ctld" "$STATE/d" /etc/slurm /etc/munge /run/munge /var/log/munge /var/lib/munge
    touch "$STATE/started"
    # keep any existing slurm config, restored by stop
    for f in slurm.conf gres.conf; do
        if [ -e "/etc/slurm/$f" ] && [ ! -e "$STATE/$f.orig" ]; then cp -p "/etc/slurm/$f" "$STATE/$f.orig"; fi
    done
    # munge: a key and a daemon with its own pid file and socket
    if [ ! -s /etc/munge/munge.key ]; then
        if command -v mungekey >/dev/null; then mungekey -c -f -k /etc/munge/munge.key
        else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
        touch "$STATE/munge.key.created"
    fi
    chown munge:munge /etc/munge/munge.key /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    if ! munge -n >/dev/null 2>&1; then
        mkdir -p "$STATE/munge" && chown munge:munge "$STATE/munge" 2>/dev/null || true
        runuser -u munge -- munged --pid-file="$STATE/munge/munged.pid" 2>/dev/null \
            || munged --force --pid-file="$STATE/munge/munged.pid"
        for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
    fi
    # a fake GPU: gres needs File= on a character device
    [ -c /dev/fakegpu0 ] || { mknod /dev/fakegpu0 c 1 3; touch "$STATE/fakegpu.created"; }
    # ports: the defaults unless taken
    sed -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" \
        -e "s|@CTLD_PORT@|${YOLOSHRINK_SLURMCTLD_PORT:-6817}|" -e "s|@D_PORT@|${YOLOSHRINK_SLURMD_PORT:-6818}|" \
        "$HERE/slurm.conf.in" > /etc/slurm/slurm.conf
    echo "NodeName=$HOST Name=gpu File=/dev/fakegpu0" > /etc/slurm/gres.conf
    slurmctld -c -i          # -c: no saved state; daemonises, pid in SlurmctldPidFile
    slurmd                   # daemonises, pid in SlurmdPidFile
    for _ in $(seq 150); do
        if sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle; then
            echo "SLURM up on $HOST"; return 0
        fi
        scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
        sleep 0.2
    done
    echo "SLURM did not come up:" >&2
    sinfo -N -l >&2 || true
    tail -n 30 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
    exit 1
}

stop() {
    # cancel our jobs first, so that no slurmstepd is left behind
    scancel --full --quiet -u root >/dev/null 2>&1 || true
    stop_pidfile "$STATE/slurmd.pid"
    stop_pidfile "$STATE/slurmctld.pid"
    stop_pidfile "$STATE/munge/munged.pid"
    for f in slurm.conf gres.conf; do
        if [ -e "$STATE/$f.orig" ]; then mv -f "$STATE/$f.orig" "/etc/slurm/$f"; else rm -f "/etc/slurm/$f"; fi
    done
    [ -e "$STATE/fakegpu.created" ] && rm -f /dev/fakegpu0
    [ -e "$STATE/munge.key.created" ] && rm -f /etc/munge/munge.key
    rm -rf "$STATE"
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 64 ;;
esac
