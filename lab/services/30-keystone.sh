# shellcheck shell=bash disable=SC2153  # STATE, VIP, LAB_NS... come from lab/lab.sh
# Keystone (Identity v3) for the lab: PyPI keystone in the venv lab/state/venvs/keystone (lab/install.sh,
# lab/venvs.d/keystone.txt), sqlite, fernet tokens, served by gunicorn in netns "lab" on VIP:5000.
# Every `up` starts from a freshly bootstrapped database: admin/admin in domain Default, region
# RegionOne, the identity service and its endpoints, and a `service` project. Nothing else.
# Sourced by lab/lab.sh (see lab/services/README.md).

KEYSTONE_PORT=5000
KEYSTONE_ADMIN_PASSWORD=keystone-Adm1n-Pa55   # lab only; also in lab/state/keystone/openrc
KEYSTONE_WAIT_SECONDS=${LAB_KEYSTONE_WAIT_SECONDS:-120}

ks_dir() { echo "$STATE/keystone"; }
ks_venv() { echo "$STATE/venvs/keystone"; }
ks_url() { echo "http://$VIP:$KEYSTONE_PORT/v3"; }

# Configuration, always rewritten (cheap). Every gunicorn setting lives in gunicorn.conf.py and gunicorn
# starts with no argument: Keystone's oslo.config parses sys.argv, and a gunicorn flag there makes each
# worker exit silently, forever.
ks_write_config() {
  local dir
  dir=$(ks_dir)
  mkdir -p "$dir/etc" "$dir/fernet-keys" "$dir/credential-keys" "$dir/logs"
  cat >"$dir/etc/keystone.conf" <<EOF
[DEFAULT]
use_stderr = true
[database]
connection = sqlite:///$dir/keystone.db
[token]
provider = fernet
[fernet_tokens]
key_repository = $dir/fernet-keys
[credential]
key_repository = $dir/credential-keys
[identity]
# bcrypt's minimum: password checks stay fast in a test IdP.
password_hash_rounds = 4
[cache]
# One gunicorn worker with an in-process cache: token validation drops from ~0.4 s a request on a busy
# 2-core machine, and a single process never serves an entry another one invalidated.
enabled = true
backend = dogpile.cache.memory
EOF
  cat >"$dir/gunicorn.conf.py" <<EOF
# Written by lab/services/30-keystone.sh. gunicorn runs with no command-line argument (see there).
wsgi_app = "keystone.wsgi.api:application"
bind = ["$VIP:$KEYSTONE_PORT"]
workers = 1
timeout = 120
graceful_timeout = 3
control_socket_disable = True
pidfile = None
accesslog = "$dir/logs/access.log"
errorlog = "$dir/logs/gunicorn.log"
EOF
  cat >"$dir/openrc" <<EOF
# The lab Keystone's admin, for the openstack CLI: . lab/state/keystone/openrc
export OS_AUTH_URL=$(ks_url)
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$KEYSTONE_ADMIN_PASSWORD
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
export OS_REGION_NAME=RegionOne
export PYTHONWARNINGS=ignore
# the CLI: $(ks_venv)/bin/openstack
EOF
}

ks_manage() { "$(ks_venv)/bin/keystone-manage" --config-file "$(ks_dir)/etc/keystone.conf" "$@"; }

# A bootstrapped database and keys, made once and copied at every `up` (db_sync takes seconds).
# Rebuilt when the venv or this file changes.
ks_pristine() {
  local dir stamp
  dir=$(ks_dir)
  stamp="$(cat "$(ks_venv)/.quorum-requirements") $(sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1)"
  if [[ -r $dir/pristine/stamp && $(cat "$dir/pristine/stamp") == "$stamp" ]]; then return 0; fi
  log "keystone: bootstrapping a pristine database (once)"
  rm -rf "$dir/pristine" "$dir/keystone.db" "$dir/fernet-keys" "$dir/credential-keys"
  mkdir -p "$dir/fernet-keys" "$dir/credential-keys"
  {
    ks_manage db_sync &&
      ks_manage fernet_setup --keystone-user root --keystone-group root &&
      ks_manage credential_setup --keystone-user root --keystone-group root &&
      ks_manage bootstrap --bootstrap-password "$KEYSTONE_ADMIN_PASSWORD" \
        --bootstrap-username admin --bootstrap-project-name admin --bootstrap-role-name admin \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$(ks_url)" --bootstrap-internal-url "$(ks_url)" --bootstrap-public-url "$(ks_url)"
  } >"$dir/logs/bootstrap.log" 2>&1 || die "keystone: bootstrap failed (see $dir/logs/bootstrap.log)"
  mkdir -p "$dir/pristine"
  cp -a "$dir/keystone.db" "$dir/fernet-keys" "$dir/credential-keys" "$dir/pristine/"
  echo "$stamp" >"$dir/pristine/stamp"
}

# curl against Keystone from the root namespace (lab0 reaches the VIP).
ks_curl() { curl -sS --max-time 10 "$@"; }

ks_admin_token() {
  ks_curl -o /dev/null -D - -H 'Content-Type: application/json' -d @- "$(ks_url)/auth/tokens" <<EOF |
{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin",
 "domain": {"id": "default"}, "password": "$KEYSTONE_ADMIN_PASSWORD"}}},
 "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
EOF
    tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}

svc_keystone_up() {
  local dir venv pidfile pid i token
  dir=$(ks_dir)
  venv=$(ks_venv)
  pidfile=$STATE/lab/pids/keystone
  [[ -x $venv/bin/gunicorn && -r $venv/.quorum-requirements ]] || die "keystone: no venv at $venv: run lab/install.sh"
  command -v curl >/dev/null || die "keystone: missing curl: run lab/install.sh"
  if pid=$(recorded_pid "$pidfile"); then
    log "keystone: already running (pid $pid)"
    return 0
  fi
  ks_write_config
  ks_pristine
  # A fresh start: the pristine database and keys.
  rm -rf "$dir/keystone.db" "$dir/fernet-keys" "$dir/credential-keys"
  cp -a "$dir/pristine/keystone.db" "$dir/pristine/fernet-keys" "$dir/pristine/credential-keys" "$dir/"
  : >"$dir/logs/gunicorn.log"
  # shellcheck disable=SC2016  # $1 and $2 are the inner shell's
  detach "$dir/logs/keystone.log" ip netns exec "$LAB_NS" \
    env OS_KEYSTONE_CONFIG_DIR="$dir/etc" PYTHONWARNINGS=ignore \
    sh -c 'cd "$1" && exec "$2"' keystone "$dir" "$venv/bin/gunicorn"
  # ip netns exec, env and sh all exec: the PID is gunicorn's master.
  sleep 0.2
  record_pid "$pidfile" "$DETACHED_PID"
  for ((i = 0; i < KEYSTONE_WAIT_SECONDS * 4; i++)); do
    if ks_curl -f -o /dev/null --max-time 2 "$(ks_url)" 2>/dev/null; then break; fi
    recorded_pid "$pidfile" >/dev/null || die "keystone: gunicorn exited (see $dir/logs/gunicorn.log)"
    sleep 0.25
  done
  ks_curl -f -o /dev/null --max-time 2 "$(ks_url)" 2>/dev/null ||
    die "keystone: $(ks_url) did not answer within ${KEYSTONE_WAIT_SECONDS}s (see $dir/logs/gunicorn.log)"
  token=$(ks_admin_token) || token=
  [[ -n $token ]] || die "keystone: the bootstrap admin cannot log in"
  ks_curl -f -o /dev/null -H "X-Auth-Token: $token" -H 'Content-Type: application/json' \
    -d '{"project": {"name": "service", "domain_id": "default", "description": "Service Project"}}' \
    "$(ks_url)/projects" || die "keystone: cannot create the service project"
  log "keystone: $(ks_url) up in netns $LAB_NS (pid $(recorded_pid "$pidfile")), admin: . $dir/openrc"
}

svc_keystone_down() {
  local pidfile=$STATE/lab/pids/keystone group i
  [[ -r $pidfile ]] || return 0
  read -r group _ <"$pidfile" || group=
  stop_pid "$pidfile" 10
  # gunicorn runs in its own session (setsid): its workers share the master's process group. A worker
  # still loading Keystone when the master goes may outlive it; end the group's remaining processes
  # of this lab's venv (group id and command line must both match).
  [[ $group =~ ^[0-9]+$ ]] || return 0
  for ((i = 0; i < 30; i++)); do
    pgrep -g "$group" -f "$(ks_venv)/" >/dev/null || return 0
    ((i == 10)) && pkill -TERM -g "$group" -f "$(ks_venv)/"
    sleep 0.2
  done
  pkill -KILL -g "$group" -f "$(ks_venv)/" || true
}

svc_keystone_status() {
  local pid state
  if pid=$(recorded_pid "$STATE/lab/pids/keystone"); then
    if curl -sf -o /dev/null --max-time 2 "$(ks_url)"; then state="up (pid $pid)"; else state="starting or stuck (pid $pid)"; fi
  else
    state=down
  fi
  echo "keystone: $state $(ks_url)"
}
