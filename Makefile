# The README's two commands: `make demo` and `make test`. Each does its own set-up first.
.PHONY: setup demo test
PY := .venv/bin/python
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

setup:
	@bash scripts/setup.sh

demo: setup
	$(OFFLINE) $(PY) -m mmweak.demo --out out/demo

# Unit tests plus every docstring example in the packages; caches go to a throwaway folder.
test: setup
	@tmp=$$(mktemp -d) && $(OFFLINE) HF_HOME=$$tmp/hf MMWEAK_CACHE=$$tmp/mmweak \
	  $(PY) -m pytest -q -p no:cacheprovider tests --doctest-modules mmweak lf_library; \
	  rc=$$?; rm -rf $$tmp; exit $$rc
