# shellcheck shell=bash
# HAProxy in every controller (issue 5): Debian's haproxy with the main file plus conf.d/
# (`-f /etc/haproxy/haproxy.cfg -f /etc/haproxy/conf.d`), master-worker, bound to VIP addresses through
# net.ipv4.ip_nonlocal_bind=1 (as keepalived backups do). It is started and stopped by Pacemaker
# (62-pacemaker.sh, clone p_haproxy), never by this hook.

# /etc/default/haproxy lives in the controller's private /etc/default (lab.sh PRIVATE_DIRS).

svc_haproxy_seed() { # CTL FSROOT
  local fs=$2
  mkdir -p "$fs/etc/haproxy/conf.d"
  rm -f "$fs"/etc/haproxy/conf.d/*
  cat >"$fs/etc/haproxy/haproxy.cfg" <<CFG
# Lab controller $1: main HAProxy file; services live in conf.d/ (one file per service).
global
    maxconn 4096
    stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners
    stats timeout 30s

defaults
    mode http
    option dontlognull
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    timeout check 2s
CFG
  # An existing service stanza, so that validation covers the whole directory.
  cat >"$fs/etc/haproxy/conf.d/170-nova.cfg" <<CFG
listen nova_api
    bind $VIP:8774
    balance roundrobin
    option httpchk GET /
$(for c in "${CONTROLLERS[@]}"; do echo "    server $c ${CTL_ADDR[$c]}:8774 check inter 2000 rise 2 fall 5"; done)
CFG
  cat >"$fs/etc/default/haproxy" <<'CFG'
# Lab: conf.d/ is loaded after the main file.
EXTRAOPTS="-f /etc/haproxy/conf.d"
CFG
}

svc_haproxy_ctl_up() { # CTL
  local ctl=$1
  ns_sysctl "$ctl" net.ipv4.ip_nonlocal_bind=1
  ctl_exec "$ctl" mkdir -p /run/haproxy
}
