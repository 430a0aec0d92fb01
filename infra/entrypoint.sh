#!/usr/bin/env bash
# One entry point for every process of the platform, in the image and outside it:
#   infra/entrypoint.sh ROLE [extra arguments for that role's command]
# The roles mirror what `make run` starts (platform/devserver/__main__.py), with the same queues and
# concurrency; counts are tunable through the environment. Each role `exec`s its process, so signals
# (SIGTERM on a rolling deploy) reach gunicorn or Celery directly and they shut down gracefully.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# `platform/` is a source root, never a package: it shadows a module of the standard library.
export PYTHONPATH="$ROOT/platform:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"
PYTHON="${PYTHON:-python3}"
LOG_LEVEL_CELERY="$(printf '%s' "${LOG_LEVEL:-info}" | tr '[:upper:]' '[:lower:]')"

usage() {
  cat >&2 <<'EOF'
usage: entrypoint.sh ROLE [ARGS...]
roles:
  web                 gunicorn -c infra/gunicorn.conf.py (GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_BIND)
  worker-interactive  Celery, queue interactive: inbound messages, auto-replies, sends (CELERY_INTERACTIVE_CONCURRENCY, 4 processes)
  worker              Celery, queue default: statuses, imports, housekeeping (CELERY_DEFAULT_CONCURRENCY, 8 threads)
  worker-broadcasts   Celery, queue broadcasts: asyncio send loops (CELERY_BROADCASTS_CONCURRENCY, 2 processes)
  beat                Celery beat, exactly one per deployment (CELERY_BEAT_SCHEDULE_FILE)
  migrate             manage.py bootstrap_platform: every schema migrated, platform tenant, plans, shop pool
  check               manage.py check --deploy: security settings and the database, fails on any warning
  healthcheck         exits 0 when the web role on this host answers /readyz (for Compose healthchecks)
  manage              manage.py with the given arguments (one-off operations)
  simulator           the WhatsApp Cloud API simulator (demo and tests only)
  stripe-fake         the local Stripe stand-in (demo and tests only)
EOF
}

role="${1:-}"
if [[ -z "$role" ]]; then
  usage
  exit 64
fi
shift

case "$role" in
  web)
    exec "$PYTHON" -m gunicorn -c "$ROOT/infra/gunicorn.conf.py" "$@"
    ;;
  worker-interactive)
    # Processes: processing is CPU-bound Python between short database waits (one process is one GIL).
    exec "$PYTHON" -m celery -A config worker -l "$LOG_LEVEL_CELERY" --pool prefork \
      --concurrency "${CELERY_INTERACTIVE_CONCURRENCY:-4}" -Q interactive -n "interactive@%h" "$@"
    ;;
  worker)
    # Threads: mostly waits on PostgreSQL and HTTP; the worker lowers its own CPU priority (config/celery.py).
    exec "$PYTHON" -m celery -A config worker -l "$LOG_LEVEL_CELERY" --pool threads \
      --concurrency "${CELERY_DEFAULT_CONCURRENCY:-8}" -Q default -n "default@%h" "$@"
    ;;
  worker-broadcasts)
    # Each task runs its own asyncio send loop in its own process, so senders of one broadcast share no GIL.
    exec "$PYTHON" -m celery -A config worker -l "$LOG_LEVEL_CELERY" --pool prefork \
      --concurrency "${CELERY_BROADCASTS_CONCURRENCY:-2}" -Q broadcasts -n "broadcasts@%h" "$@"
    ;;
  beat)
    exec "$PYTHON" -m celery -A config beat -l "$LOG_LEVEL_CELERY" \
      -s "${CELERY_BEAT_SCHEDULE_FILE:-/tmp/celerybeat-schedule}" "$@"
    ;;
  migrate)
    exec "$PYTHON" manage.py bootstrap_platform "$@"
    ;;
  check)
    # Only Django's own deploy and database checks: the API schema generator's notes are not deploy blockers.
    exec "$PYTHON" manage.py check --deploy --tag security --tag database --database default \
      --fail-level WARNING "$@"
    ;;
  healthcheck)
    # /readyz as the proxy would ask it: the platform's Host (an IP is no shop's domain) and HTTPS forwarded.
    exec "$PYTHON" - "$@" <<'PY'
import os
import sys
import urllib.request

port = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[1]
headers = {"Host": os.environ.get("PLATFORM_DOMAIN", "localhost:8000"), "X-Forwarded-Proto": "https"}
request = urllib.request.Request(f"http://127.0.0.1:{port}/readyz", headers=headers)
try:
    with urllib.request.urlopen(request, timeout=5) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError as exc:
    print(f"not ready: {exc}", file=sys.stderr)
    sys.exit(1)
PY
    ;;
  manage)
    exec "$PYTHON" manage.py "$@"
    ;;
  simulator)
    exec "$PYTHON" -m whatsapp.simulator --host "${SIMULATOR_HOST:-0.0.0.0}" --port "${SIMULATOR_PORT:-8010}" "$@"
    ;;
  stripe-fake)
    exec "$PYTHON" -m billing.stripe_fake --host "${STRIPE_FAKE_HOST:-0.0.0.0}" --port "${STRIPE_FAKE_PORT:-12111}" \
      --webhook-secret "${STRIPE_WEBHOOK_SECRET:-whsec_warung_local}" "$@"
    ;;
  *)
    echo "entrypoint.sh: unknown role '$role'" >&2
    usage
    exit 64
    ;;
esac
