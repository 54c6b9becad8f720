"""``mmweak demo`` / ``python -m recipes.demo``: the text, audio and image parts of the embedded demo in turn."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from . import text

DESCRIPTION = "The embedded default job: curate generated corpora with known truth, offline, end to end."


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mmweak demo", description=DESCRIPTION)
    parser.add_argument("--out", default="out/demo", help="folder the demo writes into, and nowhere else: "
                        "text/, audio/ and image/ curated folders (replaced on a rerun; anything else is left alone)")
    parser.add_argument("--rows", type=int, default=1500, help="rows of the text part's corpus (default 1500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every generated corpus and fit (default 0)")
    parser.add_argument("--num-proc", type=int, default=None, help="worker processes for applying the LFs "
                        "(default: one)")
    parser.add_argument("--audio-rows", type=int, default=240, help="clips in the audio part (0 skips it; about "
                        "this many: each kind of clip gets its share, rounded, and at least one)")
    parser.add_argument("--image-rows", type=int, default=120, help="images in the image part (0 skips it)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    text.run(out / "text", args.rows, args.seed, args.num_proc)
    if args.audio_rows > 0:  # the audio part: generated clips, curated by content and quality
        from . import audio

        print()
        audio.run(out / "audio", args.audio_rows, args.seed, args.num_proc)
    if args.image_rows > 0:  # the image part: generated images with known defects, heuristic + OCR LFs
        from . import image

        print()
        image.run(out / "image", args.image_rows, args.seed)
    return 0
