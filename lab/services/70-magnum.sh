# shellcheck shell=bash disable=SC2153  # LAB_DIR, CONTROLLERS... come from lab/lab.sh
# Magnum's API in the controllers: Debian 12's magnum-api (lab/packages.d/magnum.list, installed on the
# host; the controllers share its /usr). Inside each controller /etc/init.d/magnum-api is the lab's
# lab/magnum-api.init (a private bind mount; the host keeps Debian's), which runs Magnum's own server
# bound to [api] host:port of that controller's /etc/magnum/magnum.conf, so the playbook's `service`
# steps and HAProxy on VIP:9511 work. Nothing is started by `up`: the playbook starts it (restart step).
# No magnum-conductor: it needs RabbitMQ, which the lab has not.
# Sourced by lab/lab.sh (see lab/services/README.md).

MAGNUM_INIT=/etc/init.d/magnum-api
# Only when Debian's package is installed: PRIVATE_FILES would otherwise create an empty file on the host.
if [[ -e $MAGNUM_INIT ]]; then PRIVATE_FILES+=("$MAGNUM_INIT"); fi

svc_magnum_seed() { # CTL FSROOT
  local fs=$2
  # A controller starts without magnum.conf (Debian's package ships one on the host); api-paste.ini and
  # policy.d stay, as a package install leaves them.
  rm -f "$fs/etc/magnum/magnum.conf"
  if [[ -e $MAGNUM_INIT ]]; then install -m 0755 "$LAB_DIR/magnum-api.init" "$fs$MAGNUM_INIT"; fi
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
  local ctl line=
  [[ -e $MAGNUM_INIT ]] || { echo "magnum-api: not installed (lab/install.sh)"; return 0; }
  for ctl in "${CONTROLLERS[@]}"; do
    if anchor_pid "$ctl" >/dev/null && ctl_exec "$ctl" service magnum-api status >/dev/null 2>&1; then
      line+=" $ctl:running"
    else
      line+=" $ctl:stopped"
    fi
  done
  echo "magnum-api:$line"
}
