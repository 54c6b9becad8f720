"""The shared media machinery: one decode per batch for all LFs on a column, and the decode-error policy."""

import datasets
import pytest

import mmweak
from lf_library.media import MediaLF

SIZE = mmweak.Task("size", ["small", "big"])


class CountingLF(MediaLF):
    decodes: list = []

    def decode_one(self, value):
        CountingLF.decodes.append(value)
        if value == "bad":
            raise ValueError("corrupt header")
        return len(value)

    def label_decoded(self, items, batch, positions):
        return [int(n > 3) for n in items]


@pytest.fixture
def blobs():
    CountingLF.decodes = []
    return datasets.Dataset.from_dict({"blob": ["abcdef", "bad", "ab", "abcd"]})


def test_lfs_on_one_column_decode_each_row_once_and_count_faults(blobs, tmp_path):
    lfs = [CountingLF(f"lf{i}", task=SIZE, column="blob", modality="image") for i in range(5)]
    out, report = mmweak.apply_lfs(blobs, lfs, cache_dir=tmp_path, return_report=True)
    assert len(CountingLF.decodes) == 4  # not 5 x 4
    assert list(out["size_votes"]) == [[1] * 5, [-1] * 5, [0] * 5, [1] * 5]
    assert report.faults() == {f"lf{i}": 1 for i in range(5)}


def test_raise_policy_names_lf_column_and_row(blobs, tmp_path):
    lf = CountingLF("strict", task=SIZE, column="blob", modality="image", on_decode_error="raise")
    with pytest.raises(mmweak.LFError, match=r"'strict' could not decode column 'blob'.*corrupt header.*row 1") as e:
        mmweak.apply_lfs(blobs, [lf], cache_dir=tmp_path)
    assert (e.value.lf, e.value.column, e.value.row) == ("strict", "blob", 1)


def test_policy_is_part_of_the_fingerprint():
    a = CountingLF("x", task=SIZE, column="blob", modality="image")
    b = CountingLF("x", task=SIZE, column="blob", modality="image", on_decode_error="raise")
    assert a.fingerprint() != b.fingerprint()
    with pytest.raises(ValueError, match="on_decode_error"):
        CountingLF("x", task=SIZE, column="blob", modality="image", on_decode_error="skip")


def test_corrupt_file_in_a_decoded_image_column_is_a_counted_fault(tmp_path):
    import io

    from PIL import Image as PILImage

    from lf_library.image import ImageLF

    class Wide(ImageLF):
        def label_decoded(self, items, batch, positions):
            return [int(im.width > im.height) for im in items]

    def png(w, h):
        buf = io.BytesIO()
        PILImage.new("RGB", (w, h)).save(buf, format="PNG")
        return buf.getvalue()

    good = png(40, 20)
    cells = [{"bytes": good, "path": None}, {"bytes": good[:60], "path": None}, {"bytes": png(10, 30), "path": None}]
    ds = datasets.Dataset.from_dict({"image": cells}).cast_column("image", datasets.Image())
    assert ds.features["image"].decode  # datasets itself would fail on row 1 while building the batch
    lf = Wide("wide", task=SIZE, column="image")
    out, report = mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path, return_report=True)
    assert list(out["size_votes"]) == [[1], [-1], [0]]
    assert report.faults() == {"wide": 1}
    assert out.features["image"].decode  # the dataset handed back is unchanged
    strict = Wide("wide_strict", task=SIZE, column="image", on_decode_error="raise")
    with pytest.raises(mmweak.LFError, match="row 1") as e:
        mmweak.apply_lfs(ds, [strict], cache_dir=tmp_path)
    assert e.value.row == 1 and e.value.column == "image"
