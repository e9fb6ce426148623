#!/usr/bin/env bash
# Container-shaped stand-in of a SageMaker scikit-learn endpoint, on loopback.
#   serve_standin.sh DATADIR PORT
# 1. trains LogisticRegression(max_iter=200) on DATADIR/iris_train.csv (train_pickle.py);
# 2. starts `gunicorn -k gevent -w 2 --worker-connections 2000` serving serve_app:app on a unix
#    socket, and nginx (as sagemaker_containers' _server.start() does) listening on
#    127.0.0.1:PORT and proxying to it; without nginx on PATH gunicorn binds 127.0.0.1:PORT
#    itself and a line `standin: nginx not found, gunicorn serves TCP directly` is printed;
# 3. prints `READY http://127.0.0.1:PORT` once GET /ping answers 200, then stays in the
#    foreground until SIGTERM/SIGINT, when it stops gunicorn and nginx and exits 0. It exits
#    non-zero if either server dies or /ping is not up within 60 s.
# Env: VENV (default <repo>/target/bench/venv) provides python and gunicorn;
#      FIX_1D (default 1, see serve_app.py), SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT pass through.
# Server logs go to stderr; stdout carries only the status lines above.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 DATADIR PORT" >&2
    exit 2
fi
datadir="$(cd "$1" && pwd)"
port="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${VENV:-$root/target/bench/venv}"
if [ ! -x "$venv/bin/gunicorn" ]; then
    echo "standin: no gunicorn in VENV=$venv (pip install -r benches/python/requirements-bench.txt)" >&2
    exit 2
fi
venv="$(cd "$venv" && pwd)"
py="$venv/bin/python"
gunicorn="$venv/bin/gunicorn"

work="$(mktemp -d "${TMPDIR:-/tmp}/standin.XXXXXX")"
chmod 755 "$work" # nginx workers (user nobody when started as root) must reach the socket
sock="$work/gunicorn.sock"
gpid=""
npid=""

cleanup() {
    trap - TERM INT EXIT
    local rc="${1:-0}"
    [ -n "$npid" ] && kill -TERM "$npid" 2>/dev/null || true
    [ -n "$gpid" ] && kill -TERM "$gpid" 2>/dev/null || true
    for pid in $npid $gpid; do
        # gunicorn's graceful stop is quick with idle workers; give both 10 s, then kill.
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$rc"
}
trap 'cleanup 0' TERM INT
trap 'cleanup $?' EXIT

"$py" "$here/train_pickle.py" "$datadir" "$work/model.pkl" >&2

if command -v nginx >/dev/null 2>&1; then
    use_nginx=1
    bind="unix:$sock"
else
    use_nginx=0
    bind="127.0.0.1:$port"
    echo "standin: nginx not found, gunicorn serves TCP directly"
fi

# As sagemaker_containers/_server.py: gunicorn --timeout 60 -k gevent -w <cpus> ... module:app
MODEL_PATH="$work/model.pkl" FIX_1D="${FIX_1D:-1}" "$gunicorn" \
    --chdir "$here" --timeout 60 -k gevent -w 2 --worker-connections 2000 \
    --bind "$bind" --log-level warning serve_app:app >&2 &
gpid=$!

if [ "$use_nginx" = 1 ]; then
    # The container's nginx.conf (sagemaker_containers/etc/nginx.conf.template), access log off.
    mkdir -p "$work/nginx"
    cat >"$work/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log stderr warn;
worker_rlimit_nofile 4096;

events {
  worker_connections 2048;
}

http {
  default_type application/octet-stream;
  access_log off;
  client_body_temp_path $work/nginx/client_body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;

  upstream gunicorn {
    server unix:$sock;
  }

  server {
    listen 127.0.0.1:$port deferred;
    client_max_body_size 0;
    keepalive_timeout 3;

    location ~ ^/(ping|invocations|execution-parameters) {
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Host \$http_host;
      proxy_redirect off;
      proxy_read_timeout 60s;
      proxy_pass http://gunicorn;
    }

    location / {
      return 404 "{}";
    }
  }
}
CONF
    nginx -e stderr -p "$work/nginx" -c "$work/nginx.conf" >&2 &
    npid=$!
fi

url="http://127.0.0.1:$port"
ready=0
for _ in $(seq 600); do
    if ! kill -0 "$gpid" 2>/dev/null; then
        echo "standin: gunicorn exited before /ping answered" >&2
        exit 1
    fi
    if [ -n "$npid" ] && ! kill -0 "$npid" 2>/dev/null; then
        echo "standin: nginx exited before /ping answered (port $port in use?)" >&2
        exit 1
    fi
    if "$py" -c 'import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)' "$url/ping"; then
        ready=1
        break
    fi
    sleep 0.1
done
if [ "$ready" != 1 ]; then
    echo "standin: /ping did not answer 200 within 60 s" >&2
    exit 1
fi
echo "READY $url"

# Foreground until a signal (the trap runs cleanup) or a server dies.
while true; do
    wait -n $gpid $npid || true
    if ! kill -0 "$gpid" 2>/dev/null || { [ -n "$npid" ] && ! kill -0 "$npid" 2>/dev/null; }; then
        echo "standin: a server exited unexpectedly" >&2
        exit 1
    fi
done
