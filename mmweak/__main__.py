"""``python -m mmweak`` runs the ``mmweak`` command line (the same as the installed script)."""

from .cli import main

if __name__ == "__main__":  # not when a tool imports every module (pytest --doctest-modules)
    raise SystemExit(main())
