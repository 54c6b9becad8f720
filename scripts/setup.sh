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
