#!/usr/bin/env bash
# Idempotent set-up for a fresh machine: Debian FFmpeg libraries (when apt and root are available),
# a virtualenv in .venv, and the pinned stack from pyproject.toml. Re-running is a no-op unless
# pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MMWEAK_VENV:-.venv}
PY=${PYTHON:-python3}

# Real media and WordNet for the classifier LFs' tests and benchmarks: Fashion-MNIST, the Asterisk prompts
# (speech), PocketSphinx's test recordings, and the WordNet 3.0 database (ImageNet's label hierarchy).
apt_packages="libavcodec59 libavformat59 libavdevice59 libavfilter8 libswscale6 libswresample4 libavutil57 espeak-ng
  dataset-fashion-mnist asterisk-core-sounds-en-wav pocketsphinx-testdata wordnet-base"
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  missing=""
  for p in $apt_packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    echo "[setup] apt-get install$missing"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null) \
      || echo "[setup] warning: apt install failed; audio decoding falls back to soundfile, and the tests on real media (Fashion-MNIST, Asterisk, PocketSphinx) and the WordNet label mapping will fail"
  fi
fi

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp="$VENV/.mmweak-installed"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing pinned stack into $VENV (first run takes a few minutes)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # Torch family first: resolving it together with everything else exhausts pip's resolver.
  "$VENV/bin/python" -m pip install -q torch==2.11.0 torchvision==0.26.0 torchaudio==2.11.0 torchcodec==0.11.1 2>&1 | grep -v '^WARNING: Location' || true
  "$VENV/bin/python" -m pip install -q -e ".[dev,bench]" 2>&1 | grep -v '^WARNING: Location' | grep -iE 'error|conflict' || true
  "$VENV/bin/python" -c "import mmweak, datasets, torch" || { echo "[setup] install failed" >&2; exit 1; }
  echo "$want" > "$stamp"
fi

# The Label Studio server the review tests start (tests/labelstudio_server.py). label-studio pins its own
# Django stack, which would fight ours, so it gets its own virtualenv; a database migrated once here makes
# each test session's server start in seconds. If the install fails, the reason is written to
# INSTALL-FAILED and those tests skip with it (nothing else depends on this).
LS_VENV=${MMWEAK_LS_VENV:-.venv-ls}
LS_VERSION=1.23.2
ls_stamp="$LS_VENV/.mmweak-ls-installed"
if [ "$(cat "$ls_stamp" 2>/dev/null)" != "$LS_VERSION" ]; then
  echo "[setup] installing label-studio==$LS_VERSION into $LS_VENV (first run takes a few minutes)"
  mkdir -p "$LS_VENV"
  log="$LS_VENV/install.log"
  rm -f "$LS_VENV/INSTALL-FAILED"
  if { [ -x "$LS_VENV/bin/python" ] || "$PY" -m venv "$LS_VENV"; } >"$log" 2>&1 \
     && "$LS_VENV/bin/python" -m pip install -q --upgrade pip >>"$log" 2>&1 \
     && "$LS_VENV/bin/python" -m pip install -q "label-studio==$LS_VERSION" >>"$log" 2>&1; then
    tmpl="$LS_VENV/mmweak-template"
    rm -rf "$tmpl" && mkdir -p "$tmpl"
    # Offline: no version check, no Sentry, no analytics, and a dead proxy for anything else.
    if env LABEL_STUDIO_BASE_DATA_DIR="$tmpl" SENTRY_DSN= FRONTEND_SENTRY_DSN= LATEST_VERSION_CHECK=false \
         COLLECT_ANALYTICS=false http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 \
         no_proxy=127.0.0.1,localhost \
         "$LS_VENV/bin/python" -m label_studio.server init --quiet --data-dir "$tmpl" >>"$log" 2>&1 \
       && [ -f "$tmpl/label_studio.sqlite3" ]; then
      rm -f "$tmpl/.env"  # the secret key: each test server makes its own
      echo "$LS_VERSION" > "$ls_stamp"
    else
      echo "migrating a Label Studio database failed; see $log" > "$LS_VENV/INSTALL-FAILED"
    fi
  else
    tail -5 "$log" > "$LS_VENV/INSTALL-FAILED"
  fi
  if [ -f "$LS_VENV/INSTALL-FAILED" ]; then
    echo "[setup] warning: $(cat "$LS_VENV/INSTALL-FAILED"): the Label Studio tests will skip"
  fi
fi
