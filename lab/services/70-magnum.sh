# shellcheck shell=bash disable=SC2153  # LAB_DIR, CONTROLLERS... come from lab/lab.sh
# Magnum in the controllers: Debian 12's magnum-api and magnum-conductor (lab/packages.d/magnum.list, installed
# on the host; the controllers share its /usr), run by Debian's own init scripts, unchanged. What differs per
# controller is private: /etc/magnum (magnum.conf, Debian's magnum-api-uwsgi.ini) and /etc/default/magnum-api,
# which Debian's /etc/init.d/magnum-api sources and through which the playbook binds uwsgi to the controller's
# own address. Nothing is started by `up`: the playbook starts both services (RabbitMQ is lab/services/35-rabbitmq.sh).
# Sourced by lab/lab.sh (see lab/services/README.md).

MAGNUM_SERVICES=(magnum-api magnum-conductor)

svc_magnum_seed() { # CTL FSROOT
  local fs=$2
  # A controller starts as a package install leaves it, without Quorum's magnum.conf (Debian's package ships
  # one on the host) and without /etc/default/magnum-api; api-paste.ini, policy.d and the uwsgi ini stay.
  rm -f "$fs/etc/magnum/magnum.conf"
  rm -f "$fs/etc/default/magnum-api"
}

# Each controller holds the VIP for the Magnum API port only, so a connection from inside a controller to
# VIP:9511 lands in that controller's own HAProxy (bound to VIP:9511), as on the controller holding the VIP
# on a cloud, while every other port of the VIP (MariaDB, Keystone) still leaves through eth0 to netns lab:
# - the VIP as a /32 on lo (HAProxy's SYN-ACK needs it as a local address; ip_nonlocal_bind is not enough);
# - the `local` table's rule moved behind three rules: TCP to VIP port 9511, and HAProxy's replies to a
#   client on the VIP (source port 9511), look in `local`; anything else to the VIP looks in `main` (eth0);
# - arp_ignore/arp_announce on eth0 (as LVS direct-routing servers): never answer ARP for the VIP.
MAGNUM_API_PORT=9511
svc_magnum_ctl_up() { # CTL
  local ctl=$1 rules
  ctl_exec "$ctl" sysctl -qw net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
  ctl_exec "$ctl" ip addr replace "$VIP/32" dev lo
  rules=$(ctl_exec "$ctl" ip rule show)
  if ! grep -q "^90:" <<<"$rules"; then
    ctl_exec "$ctl" ip rule add pref 90 to "$VIP" ipproto tcp dport "$MAGNUM_API_PORT" lookup local
    ctl_exec "$ctl" ip rule add pref 91 to "$VIP" ipproto tcp sport "$MAGNUM_API_PORT" lookup local
    ctl_exec "$ctl" ip rule add pref 92 to "$VIP" lookup main
    ctl_exec "$ctl" ip rule add pref 100 lookup local
    ctl_exec "$ctl" ip rule del pref 0 lookup local
  fi
}

svc_magnum_status() {
  local ctl service line
  [[ -e /etc/init.d/magnum-api ]] || { echo "magnum: not installed (lab/install.sh)"; return 0; }
  for service in "${MAGNUM_SERVICES[@]}"; do
    line=
    for ctl in "${CONTROLLERS[@]}"; do
      if anchor_pid "$ctl" >/dev/null && ctl_exec "$ctl" service "$service" status >/dev/null 2>&1; then
        line+=" $ctl:running"
      else
        line+=" $ctl:stopped"
      fi
    done
    echo "$service:$line"
  done
}
