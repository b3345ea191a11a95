# shellcheck shell=bash
# The lab's message broker: Debian 12's RabbitMQ 3.10 (lab/packages.d/rabbitmq.list), one broker in netns "lab"
# on the VIP (AMQP 10.21.22.2:5672, management API 10.21.22.2:15672), data and logs under
# lab/state/lab/rabbitmq, Erlang's epmd and distribution on the namespace's loopback only.
# One broker, not the book's three-node cluster on the controllers: the controllers share this machine's
# two cores with MariaDB, Keystone, Pacemaker and three Magnum APIs, and three Erlang VMs cost about 20 s
# of CPU each to start; the lab's MariaDB and Keystone live on the VIP the same way. What Quorum drives —
# the management API (the `rabbitmq_user` step) and Magnum's conductors over AMQP — is the same.
# An administrator for Quorum (RABBITMQ_ADMIN_USER / RABBITMQ_ADMIN_PASSWORD, tag administrator, all
# permissions on /), guest removed. Started by `up` (idempotent), stopped by `down`.

RABBITMQ_DIR=$STATE/lab/rabbitmq
RABBITMQ_PIDS=$STATE/lab/pids/rabbitmq
RABBITMQ_BIN=/usr/lib/rabbitmq/bin
RABBITMQ_PORT=5672
RABBITMQ_API_PORT=15672
RABBITMQ_ADMIN_USER=quorum_admin
RABBITMQ_ADMIN_PASSWORD='Qu0rum-Rabb1t'

# The environment every rabbitmq* command of the lab's broker needs (node name, files, the cookie's HOME).
RABBITMQ_ENV=(
  HOME="$RABBITMQ_DIR/home" RABBITMQ_NODENAME=rabbit@localhost
  RABBITMQ_CONFIG_FILE="$RABBITMQ_DIR/rabbitmq.conf" RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_DIR/enabled_plugins"
  RABBITMQ_MNESIA_BASE="$RABBITMQ_DIR/mnesia" RABBITMQ_LOG_BASE="$RABBITMQ_DIR/log"
  RABBITMQ_PID_FILE="$RABBITMQ_DIR/rabbit.pid" ERL_EPMD_ADDRESS=127.0.0.1
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
)

rabbitmqctl_lab() { # ARGS...: rabbitmqctl against the lab's broker
  ip netns exec "$LAB_NS" env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmqctl" -q "$@"
}

svc_rabbitmq_up() {
  [[ -x $RABBITMQ_BIN/rabbitmq-server ]] || die "missing rabbitmq-server: run lab/install.sh"
  if recorded_pid "$RABBITMQ_PIDS" >/dev/null; then
    log "rabbitmq: already running on $VIP:$RABBITMQ_PORT"
    return 0
  fi
  mkdir -p "$RABBITMQ_DIR/home" "$RABBITMQ_DIR/log" "$(dirname "$RABBITMQ_PIDS")"
  chmod 0700 "$RABBITMQ_DIR/home"
  [[ -s $RABBITMQ_DIR/home/.erlang.cookie ]] ||
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$RABBITMQ_DIR/home/.erlang.cookie")
  cat >"$RABBITMQ_DIR/rabbitmq.conf" <<CONF
listeners.tcp.1 = $VIP:$RABBITMQ_PORT
management.tcp.ip = $VIP
management.tcp.port = $RABBITMQ_API_PORT
log.console = false
log.file.level = warning
CONF
  echo '[rabbitmq_management].' >"$RABBITMQ_DIR/enabled_plugins"
  rm -f "$RABBITMQ_DIR/rabbit.pid"
  # The detached PID is rabbitmq-server's shell: on TERM it stops the broker cleanly and exits.
  detach "$RABBITMQ_DIR/server.log" ip netns exec "$LAB_NS" env "${RABBITMQ_ENV[@]}" "$RABBITMQ_BIN/rabbitmq-server"
  record_pid "$RABBITMQ_PIDS" "$DETACHED_PID"
  local i
  for ((i = 0; i < 600; i++)); do
    [[ -s $RABBITMQ_DIR/rabbit.pid ]] && break
    recorded_pid "$RABBITMQ_PIDS" >/dev/null || { tail -n 20 "$RABBITMQ_DIR/server.log" >&2; die "rabbitmq: the broker exited"; }
    sleep 0.1
  done
  rabbitmqctl_lab wait --timeout 120 "$RABBITMQ_DIR/rabbit.pid" >/dev/null ||
    { tail -n 20 "$RABBITMQ_DIR/server.log" >&2; die "rabbitmq: not up within 120 s"; }
  # The administrator (re)set on every up, so a test that changed it cannot leave the lab broken.
  if ! rabbitmqctl_lab list_users | grep -q "^$RABBITMQ_ADMIN_USER\b"; then
    rabbitmqctl_lab add_user "$RABBITMQ_ADMIN_USER" "$RABBITMQ_ADMIN_PASSWORD" >/dev/null || die "rabbitmq: add_user failed"
  fi
  rabbitmqctl_lab change_password "$RABBITMQ_ADMIN_USER" "$RABBITMQ_ADMIN_PASSWORD" >/dev/null
  rabbitmqctl_lab set_user_tags "$RABBITMQ_ADMIN_USER" administrator >/dev/null
  rabbitmqctl_lab set_permissions -p / "$RABBITMQ_ADMIN_USER" '.*' '.*' '.*' >/dev/null
  rabbitmqctl_lab delete_user guest >/dev/null 2>&1 || true
  for ((i = 0; i < 300; i++)); do
    ip netns exec "$LAB_NS" curl -fsS -o /dev/null -u "$RABBITMQ_ADMIN_USER:$RABBITMQ_ADMIN_PASSWORD" \
      "http://$VIP:$RABBITMQ_API_PORT/api/overview" 2>/dev/null && break
    sleep 0.1
  done
  log "rabbitmq: up on $VIP:$RABBITMQ_PORT, management API :$RABBITMQ_API_PORT (pid $(recorded_pid "$RABBITMQ_PIDS")), admin $RABBITMQ_ADMIN_USER"
}

svc_rabbitmq_down() {
  if recorded_pid "$RABBITMQ_PIDS" >/dev/null; then
    rabbitmqctl_lab stop >/dev/null 2>&1 || true
  fi
  stop_pid "$RABBITMQ_PIDS" 30
  # epmd, started by the broker in netns lab: ours alone there.
  # (an `if`, not `&&`: the loop's status is its last test's, and under `set -e` a false one ended `lab.sh down`
  # here, leaving MariaDB, Keystone and the controllers up.)
  local pid
  for pid in $(ip netns pids "$LAB_NS" 2>/dev/null); do
    if [[ $(cat /proc/"$pid"/comm 2>/dev/null) == epmd ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  return 0
}

svc_rabbitmq_status() {
  local pid
  if pid=$(recorded_pid "$RABBITMQ_PIDS"); then
    echo "rabbitmq: up (pid $pid) on $VIP:$RABBITMQ_PORT, management :$RABBITMQ_API_PORT"
  else
    echo "rabbitmq: down"
  fi
}
