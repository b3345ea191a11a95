# shellcheck shell=bash
# The lab's MariaDB: one `mariadbd` in netns "lab", bound to the VIP (10.21.22.2:3306), data under
# lab/state/lab/mariadb, `skip-name-resolve`. An admin account for Quorum (MARIADB_ADMIN_USER /
# MARIADB_ADMIN_PASSWORD, all privileges with grant option, from any host); root logs in over the
# Unix socket only. Started by `up` (idempotent), stopped by `down`.

MARIADB_DIR=$STATE/lab/mariadb
MARIADB_SOCKET=$MARIADB_DIR/mysqld.sock
MARIADB_PIDS=$STATE/lab/pids/mariadb
MARIADB_PORT=3306
MARIADB_ADMIN_USER=quorum_admin
MARIADB_ADMIN_PASSWORD='Qu0rum-Adm1n'

mariadb_client() { # ARGS... : the client as root over the socket
  mariadb --no-defaults --protocol=socket -S "$MARIADB_SOCKET" -u root "$@"
}

svc_mariadb_up() {
  ((${#MARIADB_SOCKET} < 100)) || die "mariadb: socket path too long (${#MARIADB_SOCKET} bytes): $MARIADB_SOCKET"
  command -v mariadbd >/dev/null || command -v /usr/sbin/mariadbd >/dev/null || die "missing mariadbd: run lab/install.sh"
  if recorded_pid "$MARIADB_PIDS" >/dev/null; then
    log "mariadb: already running on $VIP:$MARIADB_PORT"
    return 0
  fi
  mkdir -p "$MARIADB_DIR" "$(dirname "$MARIADB_PIDS")"
  rm -f "$MARIADB_SOCKET" "$MARIADB_DIR/mariadbd.pid"
  if [[ ! -d $MARIADB_DIR/data/mysql ]]; then
    rm -rf "$MARIADB_DIR/data"
    mariadb-install-db --no-defaults --user=root --datadir="$MARIADB_DIR/data" \
      --auth-root-authentication-method=socket --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 ||
      { tail -n 20 "$MARIADB_DIR/install.log" >&2; die "mariadb: mariadb-install-db failed"; }
  fi
  detach "$MARIADB_DIR/mariadbd.log" ip netns exec "$LAB_NS" /usr/sbin/mariadbd --no-defaults --user=root \
    --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCKET" --pid-file="$MARIADB_DIR/mariadbd.pid" \
    --bind-address="$VIP" --port="$MARIADB_PORT" --skip-name-resolve --skip-log-bin \
    --performance-schema=OFF --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --key-buffer-size=1M \
    --max-connections=100 --log-error="$MARIADB_DIR/error.log"
  # `ip netns exec` execs mariadbd: the detached PID is the server's own.
  record_pid "$MARIADB_PIDS" "$DETACHED_PID"
  local i
  for ((i = 0; i < 300; i++)); do
    mariadb_client -e 'SELECT 1' >/dev/null 2>&1 && break
    recorded_pid "$MARIADB_PIDS" >/dev/null || { tail -n 20 "$MARIADB_DIR/error.log" >&2; die "mariadb: mariadbd exited"; }
    sleep 0.1
  done
  mariadb_client -e 'SELECT 1' >/dev/null 2>&1 || { tail -n 20 "$MARIADB_DIR/error.log" >&2; die "mariadb: no answer within 30 s"; }
  # The admin account (re)set on every up, so a test that changed it cannot leave the lab broken.
  mariadb_client <<SQL || die "mariadb: could not create the admin account"
CREATE USER IF NOT EXISTS '$MARIADB_ADMIN_USER'@'%' IDENTIFIED BY '$MARIADB_ADMIN_PASSWORD';
ALTER USER '$MARIADB_ADMIN_USER'@'%' IDENTIFIED BY '$MARIADB_ADMIN_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$MARIADB_ADMIN_USER'@'%' WITH GRANT OPTION;
SQL
  log "mariadb: up on $VIP:$MARIADB_PORT (pid $(recorded_pid "$MARIADB_PIDS")), admin $MARIADB_ADMIN_USER"
}

svc_mariadb_down() {
  # TERM is a clean shutdown for mariadbd; give it time to flush InnoDB before KILL.
  stop_pid "$MARIADB_PIDS" 30
  rm -f "$MARIADB_SOCKET"
}

svc_mariadb_status() {
  local pid
  if pid=$(recorded_pid "$MARIADB_PIDS"); then
    echo "mariadb: up (pid $pid) on $VIP:$MARIADB_PORT"
  else
    echo "mariadb: down"
  fi
}
