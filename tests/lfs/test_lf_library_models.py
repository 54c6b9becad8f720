"""lf_library.models: transformers pipelines (tiny random models built here), MiniLM sentence LFs, RapidOCR LFs."""

import io
import pickle

import datasets
import numpy as np
import pytest
import soundfile
from PIL import Image, ImageDraw, ImageFont

import mmweak
from lf_library.models import (
    ContainsTextLF,
    OcrEngine,
    OcrTextLF,
    PipelineLF,
    SeedNeighborsLF,
    SentenceEncoder,
    SentenceSimilarityLF,
    audio_input,
)

SPAM = mmweak.Task("spam", ["ham", "spam"])
OBJECT = mmweak.Task("object", ["cat", "dog", "car"])
KIND = mmweak.Task("kind", ["animal", "vehicle"])
SOUND = mmweak.Task("sound", ["speech", "music"])
QUALITY = mmweak.Task("quality", ["keep", "drop"])

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *(
    "free money click here great song love this is a an the comment about advertisement subscribe my channel "
    "nice video cat dog car photo of").split()]


# -- tiny random transformers models, built once per session ----------------------------------------

@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    import torch
    from transformers import (
        BertConfig,
        BertForSequenceClassification,
        BertTokenizer,
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        ViTConfig,
        ViTForImageClassification,
        ViTImageProcessor,
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForSequenceClassification,
    )

    root = tmp_path_factory.mktemp("tiny_transformers")
    tok = BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)})
    torch.manual_seed(0)
    # A large init spread makes random models give different scores to different inputs.
    common = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, initializer_range=0.8)

    def labelled(names):
        return dict(id2label=dict(enumerate(names)), label2id={n: i for i, n in enumerate(names)})

    paths = {}
    for name, labels in (("text", ["LABEL_0", "LABEL_1"]), ("nli", ["contradiction", "neutral", "entailment"])):
        cfg = BertConfig(vocab_size=len(WORDS), max_position_embeddings=64, **common, **labelled(labels))
        BertForSequenceClassification(cfg).save_pretrained(root / name)
        tok.save_pretrained(root / name)
        paths[name] = root / name
    vit = ViTConfig(image_size=32, patch_size=8, **common, **labelled(["cat", "dog", "car"]))
    ViTForImageClassification(vit).save_pretrained(root / "vit")
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(root / "vit")
    clip = CLIPConfig(
        text_config=dict(vocab_size=len(WORDS), max_position_embeddings=32, eos_token_id=3, bos_token_id=2,
                         pad_token_id=0, **common),
        vision_config=dict(image_size=32, patch_size=8, **common), projection_dim=8,
    )
    CLIPModel(clip).save_pretrained(root / "clip")
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(root / "clip")
    tok.save_pretrained(root / "clip")
    w2v = Wav2Vec2Config(
        vocab_size=10, conv_dim=(8, 8), conv_stride=(5, 4), conv_kernel=(10, 4), num_feat_extract_layers=2,
        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2, classifier_proj_size=8,
        feat_extract_norm="group", **{**common, "initializer_range": 0.1}, **labelled(["speech", "music"]),
    )
    Wav2Vec2ForSequenceClassification(w2v).save_pretrained(root / "w2v")
    Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(root / "w2v")
    paths.update(vit=root / "vit", clip=root / "clip", w2v=root / "w2v")
    return paths


COMMENTS = ["free money click here", "great song", "subscribe my channel", "love this song", "nice video",
            "click here for free money", "the song is great", "my channel is about cat photo", None, "a dog"]


def expected_votes(raw_outputs, mapping, K, min_score):
    """The oracle: sum mapped scores per class, vote the best one at or above min_score."""
    votes, scores = [], []
    for out in raw_outputs:
        pairs = list(zip(out["labels"], out["scores"])) if isinstance(out, dict) else [(d["label"], d["score"]) for d in out]
        per = np.zeros(K)
        for lab, s in pairs:
            if mapping.get(lab) is not None:
                per[mapping[lab]] += s
        scores.append(per.max())
        votes.append(int(per.argmax()))
    return np.array(votes), np.array(scores)


def median_split(scores):
    """A min_score that makes some rows vote and some abstain."""
    s = np.sort(np.unique(scores))
    assert len(s) > 2, f"tiny model gives too few distinct scores: {s}"
    return float((s[len(s) // 2 - 1] + s[len(s) // 2]) / 2)


def test_text_classification_pipeline_maps_labels_and_abstains_under_min_score(tiny_models, tmp_path):
    from transformers import pipeline

    ds = datasets.Dataset.from_dict({"text": COMMENTS})
    texts = [t for t in COMMENTS if t is not None]
    raw = pipeline("text-classification", model=str(tiny_models["text"]), device="cpu")(texts, top_k=None)
    mapping = {"LABEL_0": 0, "LABEL_1": 1}
    pred, score = expected_votes(raw, mapping, 2, 0)
    cut = median_split(score)
    lf = PipelineLF("tiny_clf", task=SPAM, pipeline_task="text-classification", model=tiny_models["text"],
                    label_map={"LABEL_0": "ham", "LABEL_1": "spam"}, min_score=cut, batch_size=4)
    out, report = mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path, return_report=True, batch_size=4)
    votes = [v[0] for v in out["spam_votes"]]
    want = np.where(score >= cut, pred, -1).tolist()
    want.insert(COMMENTS.index(None), -1)
    assert votes == want and -1 in want and set(want) - {-1}
    assert report.faults() == {"tiny_clf": 1}  # the None comment


def test_zero_shot_text_pipeline_uses_label_map_keys_as_candidates(tiny_models, tmp_path):
    from transformers import pipeline

    texts = [t for t in COMMENTS if t is not None]
    label_map = {"an advertisement": "spam", "a comment about the song": "ham"}
    raw = pipeline("zero-shot-classification", model=str(tiny_models["nli"]), device="cpu")(
        texts, candidate_labels=list(label_map), hypothesis_template="This comment is {}.")
    pred, score = expected_votes(raw, {"an advertisement": 1, "a comment about the song": 0}, 2, 0)
    cut = median_split(score)
    lf = PipelineLF("nli", task=SPAM, pipeline_task="zero-shot-classification", model=tiny_models["nli"],
                    label_map=label_map, hypothesis_template="This comment is {}.", min_score=cut)
    votes = [v[0] for v in mmweak.apply_lfs(datasets.Dataset.from_dict({"text": texts}), [lf], cache_dir=tmp_path)["spam_votes"]]
    assert votes == np.where(score >= cut, pred, -1).tolist()


@pytest.fixture(scope="module")
def pictures():
    rng = np.random.default_rng(3)
    return [Image.fromarray(rng.integers(0, 256, (30 + i, 40, 3), dtype=np.uint8)) for i in range(12)]


def test_image_classification_pipeline_sums_model_labels_per_class(tiny_models, pictures, tmp_path, monkeypatch):
    from transformers import pipeline

    raw = pipeline("image-classification", model=str(tiny_models["vit"]), device="cpu")(pictures, top_k=3)
    ds = datasets.Dataset.from_dict({"image": pictures}, features=datasets.Features({"image": datasets.Image()}))
    # Default mapping: model labels named like the task's classes.
    pred, score = expected_votes(raw, {"cat": 0, "dog": 1, "car": 2}, 3, 0)
    same_names = PipelineLF("vit", task=OBJECT, pipeline_task="image-classification", model=tiny_models["vit"],
                            min_score=0.0)
    votes = [v[0] for v in mmweak.apply_lfs(ds, [same_names], cache_dir=tmp_path)["object_votes"]]
    assert votes == pred.tolist()
    # Several model labels to one class: scores add up (cat + dog = animal).
    kind_map = {"cat": "animal", "dog": "animal", "car": "vehicle"}
    kpred, kscore = expected_votes(raw, {"cat": 0, "dog": 0, "car": 1}, 2, 0)
    cut = median_split(kscore)
    lfs = [PipelineLF("vit_kind", task=KIND, pipeline_task="image-classification", model=tiny_models["vit"],
                      label_map=kind_map, min_score=cut),
           PipelineLF("vit_kind_strict", task=KIND, pipeline_task="image-classification", model=tiny_models["vit"],
                      label_map=kind_map, min_score=0.99)]
    pipe = lfs[0].pipeline()
    calls = []
    real_call = type(pipe).__call__
    monkeypatch.setattr(type(pipe), "__call__", lambda self, *a, **k: calls.append(1) or real_call(self, *a, **k))
    out = mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path, batch_size=6)
    votes = np.asarray(out["kind_votes"])
    assert votes[:, 0].tolist() == np.where(kscore >= cut, kpred, -1).tolist()
    assert (votes[:, 1] == -1).all()
    assert len(calls) == 2  # two map batches; the two LFs share one pipeline call per batch
    s = lfs[0].scores({"image": pictures[:3]})["score"]
    assert np.allclose(s, kscore[:3], atol=1e-5)


def test_zero_shot_image_pipeline(tiny_models, pictures, tmp_path):
    from transformers import pipeline

    raw = pipeline("zero-shot-image-classification", model=str(tiny_models["clip"]), device="cpu")(
        pictures, candidate_labels=["cat", "dog", "car"])
    pred, score = expected_votes(raw, {"cat": 0, "dog": 1, "car": 2}, 3, 0)
    cut = median_split(score)
    lf = PipelineLF("zs_img", task=OBJECT, pipeline_task="zero-shot-image-classification", model=tiny_models["clip"],
                    min_score=cut, batch_size=5)
    ds = datasets.Dataset.from_dict({"image": pictures}, features=datasets.Features({"image": datasets.Image()}))
    votes = [v[0] for v in mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path)["object_votes"]]
    assert votes == np.where(score >= cut, pred, -1).tolist()


def test_audio_classification_pipeline_on_decoded_and_raw_audio(tiny_models, tmp_path):
    from transformers import pipeline

    rng = np.random.default_rng(0)
    clips = [(rng.standard_normal(8000 + 1000 * i) * (0.1 + 0.1 * i)).astype(np.float32) for i in range(6)]
    wavs = []
    for c in clips:
        buf = io.BytesIO()
        soundfile.write(buf, c, 16000, format="WAV", subtype="FLOAT")
        wavs.append({"bytes": buf.getvalue(), "path": None})
    raw = pipeline("audio-classification", model=str(tiny_models["w2v"]), device="cpu")(
        [{"raw": c, "sampling_rate": 16000} for c in clips], top_k=2)
    pred, score = expected_votes(raw, {"speech": 0, "music": 1}, 2, 0)
    cut = median_split(score)
    # batch_size=1 like the oracle: this model has no attention mask, so padding in a batch shifts its scores.
    lf = PipelineLF("w2v", task=SOUND, pipeline_task="audio-classification", model=tiny_models["w2v"], min_score=cut,
                    batch_size=1)
    ds = datasets.Dataset.from_dict({"audio": [*wavs, {"bytes": b"not audio", "path": None}]},
                                    features=datasets.Features({"audio": datasets.Audio(decode=False)}))
    out, report = mmweak.apply_lfs(ds, [lf], cache_dir=tmp_path, return_report=True)
    assert [v[0] for v in out["sound_votes"]] == [*np.where(score >= cut, pred, -1).tolist(), -1]
    assert report.faults() == {"w2v": 1}
    assert lf.modality == "audio" and lf.inputs == ("audio",)
    stereo = audio_input({"array": np.stack([clips[0], clips[0]]), "sampling_rate": 16000})
    assert np.allclose(stereo["raw"], clips[0])


def test_pipeline_lf_errors_name_the_lf_and_the_model_labels(tiny_models, tmp_path):
    bad = PipelineLF("bad_map", task=SPAM, pipeline_task="text-classification", model=tiny_models["text"],
                     label_map={"SPAM": "spam"})
    with pytest.raises(mmweak.LFError, match=r"bad_map.*label_map keys \['SPAM'\].*labels are \['LABEL_0', 'LABEL_1'\]"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["hi"]}), [bad], cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unsupported pipeline task 'summarization'"):
        PipelineLF("x", task=SPAM, pipeline_task="summarization", model="m")
    with pytest.raises(ValueError, match="sends no model label"):
        PipelineLF("x", task=SPAM, pipeline_task="text-classification", model="m", label_map={"a": None})
    missing = PipelineLF("offline", task=SPAM, pipeline_task="text-classification", model="no-such-org/no-such-model")
    with pytest.raises(mmweak.LFError, match="could not load a 'text-classification' pipeline from 'no-such-org"):
        mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["hi"]}), [missing], cache_dir=tmp_path)
    lf = PipelineLF("p", task=SPAM, pipeline_task="text-classification", model=tiny_models["text"],
                    label_map={"LABEL_1": "spam"})
    lf.pipeline()
    assert len(pickle.dumps(lf)) < 5000  # the pipeline is not pickled to workers
    other = PipelineLF("p", task=SPAM, pipeline_task="text-classification", model=tiny_models["text"],
                       label_map={"LABEL_1": "spam"}, min_score=0.7)
    assert other.fingerprint() != lf.fingerprint()


def test_pipeline_min_score_calibrates_on_dev(tiny_models):
    texts = [t for t in COMMENTS if t is not None]
    lf = PipelineLF("clf", task=SPAM, pipeline_task="text-classification", model=tiny_models["text"],
                    label_map={"LABEL_0": "ham", "LABEL_1": "spam"}, min_score=0.0)
    s = lf.scores({"text": texts})
    tuned = lf.calibrated({"text": texts, "label": s["pred"].tolist()}, target_coverage=0.5)
    assert tuned.calibration.votes == (len(texts) + 1) // 2 and tuned.calibration.precision == 1.0
    assert sum(v != -1 for v in tuned({"text": texts})) == tuned.calibration.votes


# -- sentence embeddings (the real offline MiniLM) --------------------------------------------------

@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    return SentenceEncoder(device="cpu", embed_cache=tmp_path_factory.mktemp("st_cache"))


SPAM_DESCRIPTIONS = {
    "spam": ["free money, prizes and scams", "click this link", "subscribe to my channel"],
    "ham": ["an opinion about the song or the singer", "I like this music video"],
}


def test_sentence_similarity_votes_by_meaning(encoder, tmp_path, monkeypatch):
    lf = SentenceSimilarityLF("semantic", task=SPAM, descriptions=SPAM_DESCRIPTIONS, encoder=encoder,
                              min_similarity=0.3, min_margin=0.05)
    texts = ["free money, click here", "claim your free prize money now", "this song gives me chills",
             "her voice is amazing", "zxqv", None]
    assert lf({"text": texts}) == [1, 1, 0, 0, -1, -1]
    s = lf.scores({"text": texts[:1]})
    assert s["score"][0] > 0.5  # "free money, click here" sits close to the spam description
    # One encoder pass per batch whatever the number of sentence LFs; a rerun reads the store.
    model = encoder.load()
    calls = []
    real = model.encode
    monkeypatch.setattr(model, "encode", lambda xs, **kw: calls.append(list(xs)) or real(xs, **kw))
    other = SentenceSimilarityLF("semantic_strict", task=SPAM, descriptions=SPAM_DESCRIPTIONS, encoder=encoder,
                                 min_similarity=0.5)
    seeds = SeedNeighborsLF("seeds", task=SPAM, encoder=encoder, k=3, min_similarity=0.3,
                            seeds={"spam": ["check out my channel", "free gift cards here"],
                                   "ham": ["love this song", "great video"]})
    ds = datasets.Dataset.from_dict({"text": [f"song number {i} is great" for i in range(8)] + ["free cash now"]})
    out = mmweak.apply_lfs(ds, [lf, other, seeds], cache_dir=tmp_path)
    row_calls = [c for c in calls if len(c) == 9]
    assert len(row_calls) == 1  # the 9 rows: encoded once for three LFs (seed/description texts are separate)
    assert np.asarray(out["spam_votes"])[-1].tolist()[0] == 1 and np.asarray(out["spam_votes"])[0].tolist() == [0, -1, 0]
    calls.clear()
    edited = SeedNeighborsLF("seeds", task=SPAM, encoder=encoder, k=2, min_similarity=0.3,
                             seeds={"spam": ["check out my channel"], "ham": ["love this song"]})
    mmweak.apply_lfs(ds, [lf, other, edited], cache_dir=tmp_path)
    assert calls == []  # rows, descriptions and seeds all come from the persistent store


def test_seed_neighbours_and_calibration(encoder):
    seeds = SeedNeighborsLF("knn", task=SPAM, encoder=encoder, k=3, min_similarity=0.2, min_agreement=0.0,
                            seeds={"spam": ["subscribe to my channel please", "visit my website for free stuff",
                                            "earn money from home"],
                                   "ham": ["this song is so catchy", "she sings beautifully", "best video ever"]})
    dev_texts = ["please subscribe to my youtube channel", "make money online fast", "what a beautiful voice",
                 "i love this tune", "this is the best video", "check my website", "the lyrics are deep",
                 "go to my page for free money"]
    gold = [1, 1, 0, 0, 0, 1, 0, 1]
    votes = seeds({"text": dev_texts})
    assert sum(v == g for v, g in zip(votes, gold)) >= 7
    tuned = seeds.calibrated({"text": dev_texts, "label": gold}, target_precision=1.0)
    assert tuned.calibration.met and tuned.calibration.precision == 1.0
    tuned_votes = tuned({"text": dev_texts})
    assert all(v in (-1, g) for v, g in zip(tuned_votes, gold)) and sum(v != -1 for v in tuned_votes) == tuned.calibration.votes


# -- OCR -----------------------------------------------------------------------------------------

def text_image(text, size=(200, 80), bg=(40, 90, 160)):
    img = Image.new("RGB", size, bg)
    if text:
        ImageDraw.Draw(img).text((10, 25), text, fill="white", font=ImageFont.load_default(size=24))
    return img


def test_ocr_lfs_read_text_rendered_with_pil(tmp_path, monkeypatch):
    pytest.importorskip("rapidocr_onnxruntime")
    images = [text_image("SALE 50% OFF"), text_image(""), text_image("shutterstock"), text_image("hello 2024"),
              Image.new("RGB", (120, 90), (200, 180, 20))]
    ds = datasets.Dataset.from_dict({"image": images}, features=datasets.Features({"image": datasets.Image()}))
    engine = OcrEngine(max_side=640)
    reads = []
    real = OcrEngine.read
    monkeypatch.setattr(OcrEngine, "read", lambda self, imgs: reads.append(len(imgs)) or real(self, imgs))
    lfs = [
        ContainsTextLF("has_text", task=QUALITY, label="drop", otherwise="keep", engine=engine),
        OcrTextLF("watermark", task=QUALITY, label="drop", keywords=["shutterstock", "getty images"], engine=engine),
        OcrTextLF("promo", task=QUALITY, label="drop", pattern=r"\d+\s*%\s*off", engine=engine),
    ]
    votes = np.asarray(mmweak.apply_lfs(ds, lfs, cache_dir=tmp_path)["quality_votes"])
    assert votes.tolist() == [[1, -1, 1], [0, -1, -1], [1, 1, -1], [1, -1, -1], [0, -1, -1]]
    assert reads == [5]  # one OCR pass over the batch for three OCR LFs
    assert "SALE" in engine.read([images[0]])[0][0][0]
    with pytest.raises(ValueError, match="exactly one of pattern= and keywords="):
        OcrTextLF("x", task=QUALITY, label="drop")


def test_the_cache_folder_is_not_part_of_an_lfs_code_hash(tmp_path, monkeypatch):
    """The embedding store's root read $MMWEAK_CACHE by name inside lf_library, so the fingerprint took the cache
    folder for the LF's configuration: two users sharing a vote store with different cache folders missed."""
    hashes = []
    for folder in ("one", "two"):
        monkeypatch.setenv("MMWEAK_CACHE", str(tmp_path / folder))
        lf = SentenceSimilarityLF("semantic", task=SPAM, descriptions=SPAM_DESCRIPTIONS,
                                  encoder=SentenceEncoder(device="cpu"))
        hashes.append(lf.code_hash)
    assert hashes[0] == hashes[1]
