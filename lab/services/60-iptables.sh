# shellcheck shell=bash
# iptables in every controller (issue 5): the rules of a typical controller, seeded into its private
# /etc/iptables/rules.v4 and loaded into its network namespace. The Magnum rule (tcp/9511) belongs right
# after "116 openvswitch db"; corosync (udp 5404/5405) is accepted ahead of the final drop.

iptables_seed_rules() {
  cat <<'RULES'
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -m comment --comment "000 accept related established rules" -j ACCEPT
-A INPUT -p icmp -m state --state NEW -m comment --comment "001 accept all icmp" -j ACCEPT
-A INPUT -i lo -m state --state NEW -m comment --comment "002 accept all to lo interface" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 22 -m state --state NEW -m comment --comment "003 accept ssh" -j ACCEPT
-A INPUT -p udp -m multiport --dports 5404,5405 -m state --state NEW -m comment --comment "105 corosync" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 2224,3121,21064 -m state --state NEW -m comment --comment "106 pacemaker" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 5000 -m state --state NEW -m comment --comment "111 keystone" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 11211 -m state --state NEW -m comment --comment "112 memcached" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 6641,6642 -m state --state NEW -m comment --comment "116 openvswitch db" -j ACCEPT
-A INPUT -p tcp -m multiport --dports 8081 -m state --state NEW -m comment --comment "120 quorum demo" -j ACCEPT
-A INPUT -m comment --comment "999 drop all" -j DROP
COMMIT
RULES
}

svc_iptables_seed() { # CTL FSROOT
  mkdir -p "$2/etc/iptables"
  iptables_seed_rules >"$2/etc/iptables/rules.v4"
  iptables_seed_rules >"$2/etc/iptables/rules.v4.lab-seed"   # for tests that start over
}

svc_iptables_ctl_up() { # CTL: load the seeded rules once (an `up` on a running lab keeps live rules)
  local ctl=$1
  if ! ctl_exec "$ctl" iptables -w 5 -S INPUT 2>/dev/null | grep -q -- '999 drop all'; then
    ctl_exec "$ctl" /bin/sh -c 'iptables-restore -w 5 </etc/iptables/rules.v4' || die "$ctl: iptables-restore failed"
  fi
}

svc_iptables_status() {
  local ctl n
  for ctl in "${CONTROLLERS[@]}"; do
    anchor_pid "$ctl" >/dev/null || continue
    n=$(ctl_exec "$ctl" iptables -w 5 -S INPUT 2>/dev/null | grep -c '^-A' || true)
    echo "iptables: $ctl INPUT ${n:-0} rules"
  done
}
