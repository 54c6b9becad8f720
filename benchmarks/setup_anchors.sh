#!/usr/bin/env bash
# Benchmark-only virtualenv with the anchor label models (Snorkel, crowd-kit, FlyingSquid, Hyper Label Model).
# They are NOT dependencies of mmweak: they live in .venv-bench so their pins (numpy, pandas, torch)
# never touch .venv. Idempotent: re-running is a no-op unless this script changed.
#
#   bash benchmarks/setup_anchors.sh          # then: .venv/bin/python -m benchmarks.speed
#
# Torch: Snorkel's LabelModel and pgmpy import it. torch==2.13.0 resolves to the CPU wheel that
# this machine keeps on disk (pip's find-links), a ~200 MB install; elsewhere pip fetches the
# CUDA build of the same release, which also runs on a CPU. Override with BENCH_TORCH=...
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MMWEAK_BENCH_VENV:-.venv-bench}
PY=${PYTHON:-python3}
TORCH=${BENCH_TORCH:-torch==2.13.0}
# Versions that installed and ran together on Python 3.11 (numpy 2, pandas 3).
ANCHORS="snorkel==0.10.0 crowd-kit==1.4.2 flyingsquid==0.0.0a0 pgmpy==0.1.25 hyperlm==0.0.5"
STACK="numpy==2.4.6 pandas==3.1.1 scipy==1.17.1 scikit-learn==1.9.1"

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp="$VENV/.anchors-installed"
want="$( { cat "$0"; echo "$TORCH"; } | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "[bench] installing anchors into $VENV ($TORCH, $ANCHORS)"
  quiet() { grep -vE '^WARNING: Location|^\s*$' || true; }
  "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | quiet
  # Torch first, alone: asked for together with the rest, a plain `torch` requirement could pull
  # a multi-GB CUDA build instead of the pinned one.
  "$VENV/bin/python" -m pip install -q "$TORCH" 2>&1 | quiet
  "$VENV/bin/python" -m pip install -q "$TORCH" $STACK $ANCHORS 2>&1 | quiet
  # The real-data anchor runner reads the WRENCH/crowd files through mmweak.sources, so mmweak and
  # its runtime dependencies go in too (no extras; the same numpy/pandas pins).
  "$VENV/bin/python" -m pip install -q -e . "$TORCH" $STACK 2>&1 | quiet
  "$VENV/bin/python" - <<'EOF' || { echo "[bench] anchors installed but do not import" >&2; exit 1; }
from snorkel.labeling.model import LabelModel, MajorityLabelVoter
from crowdkit.aggregation import DawidSkene, OneCoinDawidSkene
from flyingsquid.label_model import LabelModel as FlyingSquid
import hyperlm
import mmweak.sources
EOF
  "$VENV/bin/python" -m pip freeze 2>/dev/null \
    | grep -iE "^(snorkel|crowd-kit|flyingsquid|hyperlm|pgmpy|torch|numpy|pandas|scipy|scikit-learn)==" \
    > "$VENV/anchor-versions.txt"
  echo "$want" > "$stamp"
fi
echo "[bench] anchors ready in $VENV:" $(cat "$VENV/anchor-versions.txt")
