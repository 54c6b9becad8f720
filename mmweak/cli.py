"""``mmweak`` command line: ``mmweak demo`` runs the embedded end-to-end curation job."""

from __future__ import annotations

import sys
from typing import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``mmweak <command> [args]``.

    >>> main(["--help"])  # doctest: +SKIP
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: mmweak demo [--out DIR] [--rows N] [--seed S] [--num-proc P]")
        return 0
    cmd, rest = argv[0], argv[1:]
    if cmd == "demo":
        from .demo import main as demo_main

        return demo_main(rest)
    print(f"mmweak: unknown command {cmd!r}; try 'mmweak demo'", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
