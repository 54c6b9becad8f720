# The README's two commands: `make demo` and `make test`. Each does its own set-up first.
.PHONY: setup demo test test-fast
PY := .venv/bin/python
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

setup:
	@bash scripts/setup.sh

demo: setup
	$(OFFLINE) $(PY) -m recipes.demo --out out/demo

# Unit tests plus every docstring example in the packages; caches go to a throwaway folder.
test: setup
	@tmp=$$(mktemp -d) && $(OFFLINE) HF_HOME=$$tmp/hf MMWEAK_CACHE=$$tmp/mmweak \
	  $(PY) -m pytest -q -p no:cacheprovider tests --doctest-modules mmweak lf_library; \
	  rc=$$?; rm -rf $$tmp; exit $$rc

# The quick inner loop: everything but the tests marked slow (see tests/conftest.py). CI runs `make test`.
test-fast: setup
	@tmp=$$(mktemp -d) && $(OFFLINE) HF_HOME=$$tmp/hf MMWEAK_CACHE=$$tmp/mmweak \
	  $(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests --doctest-modules mmweak lf_library; \
	  rc=$$?; rm -rf $$tmp; exit $$rc
