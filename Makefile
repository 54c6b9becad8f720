# The README's two commands: `make demo` and `make test`. Each does its own set-up first.
.PHONY: setup demo test
PY := .venv/bin/python

setup:
	@bash scripts/setup.sh

demo: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m mmweak.demo --out out/demo_curated

test: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest -q tests
