"""lf_library.image: decoding, heuristics, near-duplicates, threshold calibration and CLIP LFs (tiny random model)."""

import io
import json
import pickle

import datasets
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

import mmweak
from lf_library import image as limg
from lf_library.image import (
    AspectRatioLF,
    BlurLF,
    BrightnessLF,
    ClipAlignmentLF,
    ClipModel,
    ClipZeroShotLF,
    ContrastLF,
    NearDuplicateLF,
    ResolutionLF,
    UndecodableLF,
    calibrate_threshold,
    heuristics,
    load_image,
    mark_near_duplicates,
)
from lf_library.image.dedup import _groups, hamming, phash

QUALITY = mmweak.Task("quality", ["keep", "drop"])
ANIMAL = mmweak.Task("animal", ["cat", "dog", "bird"])
PAIR = mmweak.Task("pair", ["mismatch", "match"])
TINY_CLIP = "mmweak-test-tiny-clip"


def noise(seed, size=(64, 48), mode="RGB"):
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    return Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)


def shapes(seed, size=(128, 96)):
    """A scene of hard-edged rectangles: sharp, and still contrasted once blurred."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, (128, 128, 128))
    draw = ImageDraw.Draw(img)
    for _ in range(12):
        x, y = int(rng.integers(0, size[0] - 20)), int(rng.integers(0, size[1] - 20))
        draw.rectangle([x, y, x + int(rng.integers(10, 40)), y + int(rng.integers(10, 40))],
                       fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return img


def encoded(img, fmt="PNG"):
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def truncated_jpeg(seed=0):
    return encoded(noise(seed, (96, 96)), "JPEG")[:1500]


# -- decoding ---------------------------------------------------------------------------------------

def test_load_image_accepts_every_cell_shape_and_rejects_bad_ones(tmp_path):
    img = noise(1)
    path = tmp_path / "a.png"
    img.save(path)
    cells = [img, {"bytes": encoded(img), "path": None}, {"bytes": None, "path": str(path)}, str(path), path,
             encoded(img), np.asarray(img)]
    for cell in cells:
        assert np.array_equal(np.asarray(load_image(cell)), np.asarray(img)), type(cell)
    with pytest.raises(OSError, match="truncated"):
        load_image({"bytes": truncated_jpeg(), "path": None})
    with pytest.raises(ValueError, match="empty image cell"):
        load_image(None)
    with pytest.raises(Exception, match="cannot identify"):
        load_image(b"definitely not an image")
    # an array datasets stored as List(List(uint8)) comes back as nested lists
    assert np.array_equal(np.asarray(load_image(np.asarray(img).tolist())), np.asarray(img))
    with pytest.raises(TypeError, match=r"nested lists must hold 0\.\.255 integers"):
        load_image([[0.5, 1.5]])


def test_a_plain_lf_on_a_decoded_image_column_names_the_cell_datasets_cannot_decode():
    """datasets decodes an Image() column while building the batch, so one truncated file failed every LF with a
    bare OSError from inside datasets, on_error ignored. Such a cell is now the LF's: an LFError naming LF,
    column and row, or under on_error='abstain' a fault of each LF that reads it, the other rows voted."""
    wide = mmweak.labeling_function(task=QUALITY, modality="image", inputs=["image"], name="wide")(
        lambda b: [1 if im.width > 50 else 0 for im in b["image"]])
    length = mmweak.labeling_function(task=QUALITY, inputs=["caption"], name="long_caption")(
        lambda b: [1 if len(c) > 3 else -1 for c in b["caption"]])
    cells = [{"bytes": encoded(noise(1)), "path": None}, {"bytes": truncated_jpeg(), "path": None},
             {"bytes": encoded(noise(2, (32, 32))), "path": None}]
    ds = datasets.Dataset.from_dict({"image": cells, "caption": ["a", "long one", "bb"]},
                                    features=datasets.Features({"image": datasets.Image(),
                                                                "caption": datasets.Value("string")}))
    with pytest.raises(mmweak.LFError, match=r"LF 'wide' .* reads column 'image', whose cell on row 1 datasets "
                                             r"could not decode \(OSError: .*truncated") as err:
        mmweak.apply_lfs(ds, [wide, length], use_cache=False)
    assert (err.value.lf, err.value.column, err.value.row) == ("wide", "image", 1)
    out, report = mmweak.apply_lfs(ds, [wide, length], use_cache=False, on_error="abstain", return_report=True)
    assert out["quality_votes"] == [[1, -1], [-1, 1], [0, -1]] and report.faults() == {"wide": 1, "long_caption": 0}
    # an image LF in the same pass gets the stored cell and judges it as it does alone: its votes, and so what the
    # cache keeps under its key, do not depend on which LFs share the pass
    broken = UndecodableLF("broken", task=QUALITY, label="drop", otherwise="keep")
    alone = mmweak.apply_lfs(ds, [broken], use_cache=False)["quality_votes"]
    shared, report = mmweak.apply_lfs(ds, [wide, broken], use_cache=False, on_error="abstain", return_report=True)
    assert alone == [[0], [1], [0]] and [row[1] for row in shared["quality_votes"]] == [0, 1, 0]
    assert report.faults() == {"wide": 1, "broken": 0}


def test_sixteen_bit_images_keep_their_grey_and_float_images_are_refused(tmp_path):
    """PIL's convert("L") clips 16-bit values at 255, so a mid-grey 16-bit PNG read as white (brightness 1.0,
    contrast 0) and a 16-bit photo as noise; a float image read black. 16-bit is scaled now, float refused."""
    grey = tmp_path / "grey16.png"
    Image.fromarray(np.full((64, 64), 32768, np.uint16)).save(grey)
    assert Image.open(grey).mode.startswith("I")
    assert np.asarray(load_image(str(grey))).mean() == 128
    exposure = BrightnessLF("exposure", task=QUALITY, below=0.1, above=0.9, label="drop", otherwise="keep")
    flat = tmp_path / "float.tif"
    Image.fromarray(np.full((64, 64), 0.5, np.float32)).save(flat)
    out, report = mmweak.apply_lfs(datasets.Dataset.from_dict({"image": [str(grey), str(flat)]}), [exposure],
                                   use_cache=False, return_report=True)
    assert out["quality_votes"] == [[0], [-1]]  # mid-grey kept; the float image abstains, counted as a fault
    assert report.faults() == {"exposure": 1}
    with pytest.raises(ValueError, match="32-bit float image"):
        load_image(str(flat))
    # an integer array in an Image() column is stored as a 32-bit TIFF (mode I): its 0..255 values stay as they are
    ints = datasets.Dataset.from_dict({"image": [np.arange(64, dtype=np.int32).reshape(8, 8) * 4]},
                                      features=datasets.Features({"image": datasets.Image()}))
    assert np.asarray(load_image(ints[0]["image"]).convert("L")).mean() == 126


@pytest.fixture
def quality_images():
    """Images with known defects, and what each heuristic LF must vote (1 = drop, 0 = keep, -1 = abstain)."""
    sharp = shapes(3, (128, 96))
    return {
        "sharp": sharp,
        "tiny": noise(4, (24, 24)),
        "banner": noise(5, (400, 60)),
        "dark": Image.new("RGB", (64, 64), (6, 6, 8)),
        "bright": Image.new("RGB", (64, 64), (250, 250, 252)),
        "blurry": sharp.filter(ImageFilter.GaussianBlur(5)),
    }


def heuristic_lfs(**kw):
    return [
        ResolutionLF("tiny", task=QUALITY, min_side=32, label="drop", **kw),
        AspectRatioLF("banner", task=QUALITY, max_ratio=3, label="drop", **kw),
        BrightnessLF("exposure", task=QUALITY, below=0.1, above=0.95, label="drop", **kw),
        ContrastLF("flat", task=QUALITY, below=0.02, label="drop", **kw),
        BlurLF("blurry", task=QUALITY, max_sharpness=200, label="drop", otherwise="keep", **kw),
    ]


EXPECTED = {  # tiny, banner, exposure, flat, blurry
    "sharp": [-1, -1, -1, -1, 0],
    "tiny": [1, -1, -1, -1, 0],
    "banner": [-1, 1, -1, -1, 0],
    "dark": [-1, -1, 1, 1, 1],
    "bright": [-1, -1, 1, 1, 1],
    "blurry": [-1, -1, -1, -1, 1],
}


def test_heuristics_vote_on_known_defects_for_decoded_and_undecoded_columns(quality_images, tmp_path, monkeypatch):
    names = list(quality_images)
    calls = []
    real = heuristics.image_stats
    monkeypatch.setattr(heuristics, "image_stats", lambda im: calls.append(1) or real(im))
    decoded = datasets.Dataset.from_dict({"image": [quality_images[n] for n in names]},
                                         features=datasets.Features({"image": datasets.Image()}))
    raw = decoded.cast_column("image", datasets.Image(decode=False))
    for ds in (decoded, raw):
        calls.clear()
        out = mmweak.apply_lfs(ds, heuristic_lfs(), cache_dir=tmp_path / str(len(calls)) / ds._fingerprint)
        assert [list(v) for v in out["quality_votes"]] == [EXPECTED[n] for n in names]
        assert len(calls) == len(names)  # five LFs, one statistics pass per image


def test_undecodable_images_abstain_and_count_or_raise_by_policy(tmp_path):
    good = encoded(noise(7))
    ds = datasets.Dataset.from_dict(
        {"image": [{"bytes": good, "path": None}, {"bytes": truncated_jpeg(), "path": None},
                   {"bytes": b"garbage", "path": None}]},
        features=datasets.Features({"image": datasets.Image(decode=False)}),
    )
    lfs = [*heuristic_lfs(), UndecodableLF("broken", task=QUALITY, label="drop", otherwise="keep")]
    out, report = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path, return_report=True)
    votes = np.asarray(out["quality_votes"])
    assert votes[:, -1].tolist() == [0, 1, 1]  # UndecodableLF votes on bad files...
    assert (votes[1:, :-1] == -1).all()  # ...every other LF abstains on them
    assert report.faults() == {"tiny": 2, "banner": 2, "exposure": 2, "flat": 2, "blurry": 2, "broken": 0}
    strict = BlurLF("strict_blur", task=QUALITY, max_sharpness=10, label="drop", on_decode_error="raise")
    with pytest.raises(mmweak.LFError, match=r"'strict_blur' could not decode column 'image'.*truncated.*row 1") as e:
        mmweak.apply_lfs(ds, [strict], cache_dir=tmp_path)
    assert (e.value.lf, e.value.column, e.value.row) == ("strict_blur", "image", 1)


def test_heuristic_config_errors_and_fingerprints():
    with pytest.raises(ValueError, match="unknown image statistic 'hue'"):
        limg.ImageStatLF("x", task=QUALITY, stat="hue", below=1, label="drop")
    with pytest.raises(ValueError, match="give a 'below' and/or an 'above'"):
        limg.ImageStatLF("x", task=QUALITY, stat="brightness", label="drop")
    with pytest.raises(ValueError, match="unknown label 'trash'"):
        BlurLF("x", task=QUALITY, max_sharpness=1, label="trash")
    a = BlurLF("b", task=QUALITY, max_sharpness=100, label="drop")
    b = BlurLF("b", task=QUALITY, max_sharpness=120, label="drop")
    assert a.fingerprint() != b.fingerprint()


# -- near duplicates ------------------------------------------------------------------------------

def test_phash_is_robust_to_resize_and_recompression_but_not_to_content():
    img = noise(11, (120, 90))
    variants = [img.resize((60, 45)), load_image(encoded(img, "JPEG")), img.filter(ImageFilter.GaussianBlur(0.8))]
    assert all(hamming(phash(img), phash(v)) <= 4 for v in variants)
    assert hamming(phash(img), phash(noise(12, (120, 90)))) > 16


def test_band_index_groups_like_a_brute_force_scan():
    rng = np.random.default_rng(0)
    base = [int(x) for x in rng.integers(0, 2**63, 40)]
    hashes = []
    for h in base:  # each base hash plus a few copies with 0..6 flipped bits
        hashes.append(h)
        for _ in range(2):
            flips = rng.choice(64, size=rng.integers(0, 7), replace=False)
            hashes.append(h ^ sum(1 << int(b) for b in flips))
    hashes.append(None)
    for d in (0, 3, 5):
        parent = list(range(len(hashes)))

        def find(i):
            while parent[i] != i:
                i = parent[i]
            return i

        for i in range(len(hashes)):
            for j in range(i + 1, len(hashes)):
                if hashes[i] is not None and hashes[j] is not None and hamming(hashes[i], hashes[j]) <= d:
                    ri, rj = find(i), find(j)
                    parent[max(ri, rj)] = min(ri, rj)
        assert _groups(hashes, d).tolist() == [find(i) for i in range(len(hashes))]


def test_mark_near_duplicates_across_splits_and_the_lf(tmp_path):
    a, b, c = noise(21, (80, 60)), noise(22, (80, 60)), noise(23, (80, 60))
    feats = datasets.Features({"image": datasets.Image()})
    dd = datasets.DatasetDict({
        "train": datasets.Dataset.from_dict({"image": [a, b, a.resize((60, 45))]}, features=feats),
        "test": datasets.Dataset.from_dict({"image": [c, load_image(encoded(b, "JPEG"))]}, features=feats),
    })
    dd["test"] = dd["test"].cast_column("image", datasets.Image(decode=False))
    dd["test"] = datasets.Dataset.from_dict(
        {"image": [*dd["test"]["image"], {"bytes": b"junk", "path": None}]},
        features=datasets.Features({"image": datasets.Image(decode=False)}),
    )
    marked = mark_near_duplicates(dd, "image", max_distance=4)
    assert list(marked["train"]["image_dup_of"]) == [None, None, "train/0"]
    assert list(marked["test"]["image_dup_of"]) == [None, "train/1", None]
    assert marked["train"].features["image_dup_of"] == datasets.Value("string")
    out = mmweak.apply_lfs(marked, [NearDuplicateLF("dup", task=QUALITY, label="drop")], cache_dir=tmp_path)
    assert [v[0] for v in out["test"]["quality_votes"]] == [-1, 1, -1]
    brighter = ImageEnhance.Brightness(a).enhance(1.3)
    assert hamming(phash(a), phash(brighter)) == 4
    pair = datasets.Dataset.from_dict({"image": [a, brighter]}, features=feats)
    assert list(mark_near_duplicates(pair, max_distance=4)["image_dup_of"]) == [None, "train/0"]
    assert list(mark_near_duplicates(pair, max_distance=3)["image_dup_of"]) == [None, None]
    with pytest.raises(ValueError, match="has no column 'photo'"):
        mark_near_duplicates(dd, "photo")


# -- calibration ----------------------------------------------------------------------------------

def _synthetic(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    scores = rng.random(n)
    gold = rng.integers(0, 2, n)
    # The LF predicts class 1; it is right with probability rising with its score.
    right = rng.random(n) < 0.3 + 0.7 * scores
    gold = np.where(right, 1, 0)
    return scores, gold


def test_calibration_hits_a_precision_target_with_maximal_coverage():
    scores, gold = _synthetic()
    for target in (0.7, 0.85, 0.95):
        cal = calibrate_threshold(scores, 1, gold, target_precision=target, min_votes=20)
        voted = scores >= cal.threshold
        assert cal.met and voted.sum() == cal.votes
        assert (gold[voted] == 1).mean() == pytest.approx(cal.precision) and cal.precision >= target
        # No lower threshold (more coverage) keeps the target: the choice is maximal.
        lower = np.sort(scores[~voted])[::-1]
        for t in lower[:50]:
            v = scores >= t
            assert (gold[v] == 1).mean() < target or v.sum() < 20


def test_calibration_hits_a_coverage_target_and_reports_unmet_targets():
    scores, gold = _synthetic(seed=1)
    predicted = np.where(np.arange(len(scores)) % 4 == 0, -1, 1)  # a quarter of rows can never be voted on
    cal = calibrate_threshold(scores, predicted, gold, target_coverage=0.4)
    voted = (scores >= cal.threshold) & (predicted >= 0)
    assert cal.met and voted.mean() == pytest.approx(cal.coverage) and 0.4 <= cal.coverage < 0.4 + 1 / len(scores) + 1e-9
    too_much = calibrate_threshold(scores, predicted, gold, target_coverage=0.9)
    assert not too_much.met and too_much.coverage == pytest.approx(0.75)
    assert too_much.why == f"the LF can vote on {int((predicted >= 0).sum())} of the {len(scores)} dev rows only"
    impossible = calibrate_threshold([0.2, 0.1], 1, [0, 0], target_precision=0.5)
    assert not impossible.met and impossible.precision == 0.0
    assert str(impossible).endswith("NOT met (no threshold reaches it; the most precise with at least 1 votes is kept)")
    # reached, but on too few votes: said so (it read like a precision below the target)
    few = calibrate_threshold([0.9, 0.8, 0.7, 0.6, 0.5, 0.4], 1, [1, 1, 1, 1, 0, 0], target_precision=0.9,
                              min_votes=5)
    assert (few.met, few.votes, few.precision) == (False, 5, 0.8)
    assert few.why == "reached, but on fewer than min_votes=5 dev votes"
    assert calibrate_threshold([0.5, 0.5, 0.1], 1, [1, 0, 1], target_precision=1.0).votes == 3  # ties move together
    with pytest.raises(ValueError, match="exactly one of"):
        calibrate_threshold([0.1], 1, [1])
    with pytest.raises(ValueError, match="no gold-labelled dev rows"):
        calibrate_threshold([0.1], 1, [-1], target_coverage=0.5)


# -- CLIP -------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def tiny_clip_config(tmp_path_factory):
    import open_clip

    folder = tmp_path_factory.mktemp("open_clip_configs")
    config = {
        "embed_dim": 32,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
        "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    }
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(config))
    open_clip.add_model_config(folder)
    return config


@pytest.fixture
def clip(tiny_clip_config, tmp_path):
    return ClipModel(TINY_CLIP, "random", device="cpu", batch_size=8, embed_cache=tmp_path / "emb")


@pytest.fixture(scope="session")
def photos():
    """40 images with captions, as a decoded Image column."""
    rng = np.random.default_rng(5)
    imgs = []
    for i in range(40):
        img = Image.new("RGB", (48, 40), tuple(int(x) for x in rng.integers(0, 256, 3)))
        ImageDraw.Draw(img).ellipse([int(rng.integers(0, 20)), int(rng.integers(0, 15)), 40, 36],
                                    fill=tuple(int(x) for x in rng.integers(0, 256, 3)))
        imgs.append(img)
    captions = [["a cat", "a dog on grass", "a bird in the sky", None][i % 4] for i in range(40)]
    return datasets.Dataset.from_dict(
        {"image": imgs, "caption": captions},
        features=datasets.Features({"image": datasets.Image(), "caption": datasets.Value("string")}),
    )


def count_forward_passes(clip, monkeypatch):
    model = clip.load().model
    calls = []
    real = model.encode_image
    monkeypatch.setattr(model, "encode_image", lambda x, **kw: calls.append(len(x)) or real(x, **kw))
    return calls


def test_zero_shot_votes_and_abstains_follow_the_thresholds(clip, photos, tmp_path):
    probe = ClipZeroShotLF("probe", task=ANIMAL, clip=clip, templates=["a photo of a {}.", "a drawing of a {}."])
    s = probe.scores(photos[:])
    assert s["pred"].min() >= 0 and np.allclose(s["margin"], s["margin"].clip(0, 1))
    min_prob, min_margin = float(np.quantile(s["prob"], 0.4)), float(np.quantile(s["margin"], 0.3))
    lfs = [
        ClipZeroShotLF("by_prob", task=ANIMAL, clip=clip, templates=probe.templates, min_prob=min_prob),
        ClipZeroShotLF("by_both", task=ANIMAL, clip=clip, templates=probe.templates, min_prob=min_prob,
                       min_margin=min_margin),
    ]
    votes = np.asarray(mmweak.apply_lfs(photos, lfs, cache_dir=tmp_path / "votes", batch_size=16)["animal_votes"])
    want_prob = np.where(s["prob"] >= min_prob, s["pred"], -1)
    want_both = np.where((s["prob"] >= min_prob) & (s["margin"] >= min_margin), s["pred"], -1)
    assert votes[:, 0].tolist() == want_prob.tolist() and votes[:, 1].tolist() == want_both.tolist()
    assert 0 < (votes[:, 0] == -1).sum() < len(photos) and (votes[:, 1] == -1).sum() > (votes[:, 0] == -1).sum()
    # Averaged templates: the class embedding is the normalised mean of its prompt embeddings.
    emb = clip.encode_texts(probe.prompts()[0])
    mean = emb.mean(0) / np.linalg.norm(emb.mean(0))
    assert np.allclose(probe.class_embeddings()[0], mean, atol=1e-5)


def test_alignment_votes_on_fixed_prompts_and_caption_columns(clip, photos, tmp_path):
    cap_probe = ClipAlignmentLF("p", task=PAIR, clip=clip, text_column="caption", below=0.0, label_below="mismatch")
    sim = cap_probe.scores(photos[:])["similarity"]
    assert np.isnan(sim[3::4]).all() and not np.isnan(sim[0::4]).any()  # None captions have no similarity
    lo, hi = np.nanquantile(sim, [0.3, 0.7])
    fixed_probe = ClipAlignmentLF("q", task=PAIR, clip=clip, text="a photo of a cat", above=0.0, label_above="match")
    fsim = fixed_probe.scores(photos[:])["similarity"]
    t = float(np.median(fsim))
    lfs = [
        ClipAlignmentLF("caption_fit", task=PAIR, clip=clip, text_column="caption", above=float(hi),
                        label_above="match", below=float(lo), label_below="mismatch"),
        ClipAlignmentLF("looks_like_cat", task=PAIR, clip=clip, text="a photo of a cat", above=t, label_above="match"),
    ]
    out, report = mmweak.apply_lfs(photos, lfs, cache_dir=tmp_path / "votes", return_report=True)
    votes = np.asarray(out["pair_votes"])
    want = np.where(sim >= hi, 1, np.where(sim < lo, 0, -1))
    assert votes[:, 0].tolist() == want.tolist()
    assert votes[:, 1].tolist() == np.where(fsim >= t, 1, -1).tolist()
    assert report.faults() == {"caption_fit": 10, "looks_like_cat": 0}  # the 10 rows without a caption
    with pytest.raises(ValueError, match="exactly one of text="):
        ClipAlignmentLF("x", task=PAIR, clip=clip, above=0.1, label_above="match")
    with pytest.raises(ValueError, match="each threshold needs its label"):
        ClipAlignmentLF("x", task=PAIR, clip=clip, text="a cat", above=0.1)


def test_ten_clip_lfs_cost_the_image_encoder_passes_of_one(clip, photos, tmp_path, monkeypatch):
    calls = count_forward_passes(clip, monkeypatch)
    no_store = ClipModel(TINY_CLIP, "random", device="cpu", batch_size=8, embed_cache=False)

    def lfs(n, model, tag=""):
        out = []
        for i in range(n):
            if i % 2:
                out.append(ClipAlignmentLF(f"align{i}{tag}", task=ANIMAL, clip=model, text_column="caption",
                                           above=0.1 * i, label_above="cat"))
            else:
                out.append(ClipZeroShotLF(f"zs{i}{tag}", task=ANIMAL, clip=model, min_prob=0.3 + 0.05 * i))
        return out

    mmweak.apply_lfs(photos, lfs(1, no_store), cache_dir=tmp_path / "a", batch_size=16)
    one = list(calls)
    calls.clear()
    mmweak.apply_lfs(photos, lfs(10, no_store), cache_dir=tmp_path / "b", batch_size=16)
    ten = list(calls)
    assert one == ten == [8, 8, 8, 8, 8]  # 40 images in 3 map batches of <= 16, encoded 8 at a time, once
    # With the persistent store, a later run with edited LFs (new fingerprints, votes recomputed)
    # encodes no image at all, and the votes equal those computed from scratch.
    calls.clear()
    first = mmweak.apply_lfs(photos, lfs(10, clip), cache_dir=tmp_path / "c", batch_size=16)
    assert sum(calls) == 40 and clip.store("image").encoded == 40
    calls.clear()
    again, report = mmweak.apply_lfs(photos, lfs(10, clip, tag="_v2"), cache_dir=tmp_path / "c", batch_size=16,
                                     return_report=True)
    assert calls == [] and len(report.computed()) == 10
    assert np.array_equal(np.asarray(first["animal_votes"]), np.asarray(again["animal_votes"]))


def test_clip_lfs_calibrate_their_thresholds_on_a_dev_set(clip, photos):
    lf = ClipZeroShotLF("zs", task=ANIMAL, clip=clip, min_prob=0.0)
    s = lf.scores(photos[:])
    hidden = float(np.quantile(s["prob"], 0.6))
    # Synthetic gold: the zero-shot guess is right exactly when its probability exceeds a hidden cut.
    gold = np.where(s["prob"] > hidden, s["pred"], (s["pred"] + 1) % 3)
    dev = photos.add_column("label", gold.tolist())
    tuned = lf.calibrated(dev, target_precision=1.0)
    assert tuned.calibration.met and tuned.calibration.precision == 1.0
    assert tuned.calibration.votes == int((s["prob"] > hidden).sum())
    assert tuned.min_prob > hidden and lf.min_prob == 0.0 and tuned.fingerprint() != lf.fingerprint()
    votes = np.asarray(tuned(dev[:]))
    assert ((votes == gold) | (votes == -1)).all() and (votes != -1).sum() == tuned.calibration.votes
    half = lf.calibrated(dev, target_coverage=0.5)
    assert half.calibration.votes == 20 and (np.asarray(half(dev[:])) != -1).sum() == 20
    named = photos.add_column("label", [ANIMAL.labels[g] for g in gold])  # gold as class names, as aggregate takes
    assert lf.calibrated(named, target_precision=1.0).min_prob == tuned.min_prob
    al = ClipAlignmentLF("al", task=PAIR, clip=clip, text="a cat", below=0.0, label_below="mismatch")
    sim = al.scores(photos[:])["similarity"]
    tuned_al = al.calibrated({"image": photos["image"], "label": [0] * 40}, target_coverage=0.25)
    assert tuned_al.calibration.votes == 10 and (sim < tuned_al.below).sum() == 10


def test_clip_weights_from_a_file_and_a_local_dir_match_and_fingerprint_by_content(clip, tiny_clip_config, tmp_path):
    import torch

    model = clip.load().model
    weights = tmp_path / "tiny.pt"
    torch.save(model.state_dict(), weights)
    folder = tmp_path / "tiny_dir"
    folder.mkdir()
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": tiny_clip_config}))
    imgs = [noise(31, (40, 40)), noise(32, (50, 30))]
    ref = clip.encode_images(imgs)
    from_file = ClipModel(TINY_CLIP, str(weights), device="cpu")
    from_dir = ClipModel(f"local-dir:{folder}", device="cpu")
    assert np.allclose(from_file.encode_images(imgs), ref, atol=1e-5)
    assert np.allclose(from_dir.encode_images(imgs), ref, atol=1e-5)
    before = from_file.fingerprint()
    torch.save({k: v + 1 for k, v in model.state_dict().items()}, weights)
    assert ClipModel(TINY_CLIP, str(weights), device="cpu").fingerprint() != before
    assert ClipModel(TINY_CLIP, "random", device="cpu", seed=1).fingerprint() != clip.fingerprint()
    with pytest.raises(ValueError, match="pass pretrained="):
        ClipModel(TINY_CLIP)
    with pytest.raises(FileNotFoundError, match="no folder at"):
        ClipModel("local-dir:/no/such/folder")


def test_clip_lfs_pickle_without_the_model(clip, photos):
    lf = ClipZeroShotLF("zs", task=ANIMAL, clip=clip)
    lf.class_embeddings()
    clip.load()
    blob = pickle.dumps(lf)
    assert len(blob) < 20_000  # spec only: no weights, no prompt embeddings
    back = pickle.loads(blob)
    assert back._class_emb is None and back.fingerprint() == lf.fingerprint()
    assert back(photos[:6]) == lf(photos[:6])


def test_clip_lfs_in_num_proc_workers_vote_like_one_process(clip, photos, tmp_path):
    lfs = [ClipZeroShotLF("zs", task=ANIMAL, clip=clip, min_prob=0.35),
           ClipAlignmentLF("al", task=ANIMAL, clip=clip, text_column="caption", above=0.0, label_above="cat")]
    one = mmweak.apply_lfs(photos, lfs, cache_dir=tmp_path / "one", batch_size=8)
    two = mmweak.apply_lfs(photos, lfs, cache_dir=tmp_path / "two", batch_size=8, num_proc=2)
    assert np.array_equal(np.asarray(one["animal_votes"]), np.asarray(two["animal_votes"]))
