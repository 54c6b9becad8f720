"""Finding people named by e-mail address and renaming them (the Hub push refuses to publish such names)."""

from __future__ import annotations

import datasets
import pytest

import mmweak
from mmweak import review

DOG = mmweak.Task("dog", ["cat", "dog"])


def _crowd() -> datasets.Dataset:
    """A crowd folder's shape, as mmweak.sources.read_crowd gives it: {worker, label} answers, no LFs yet."""
    return datasets.Dataset.from_dict({"answers": [
        [{"worker": "ann@lab.org", "label": "dog"}, {"worker": "7", "label": "cat"}],
        [{"worker": "7", "label": "dog"}], [], [{"worker": "ann@lab.org", "label": "cat"}]]})


def test_answers_no_task_claims_yet_are_found_and_renamed():
    ds = _crowd()
    assert review.annotator_emails(ds) == ["split 'train', column 'answers', row 0: 'ann@lab.org' (2 rows)"]
    renamed = review.rename_annotators(ds, DOG, {"ann@lab.org": "ann"})
    assert [[a["worker"] for a in r] for r in renamed["answers"]] == [["ann", "7"], ["7"], [], ["ann"]]
    assert review.annotator_emails(renamed) == [] and ds[0]["answers"][0]["worker"] == "ann@lab.org"
    # renaming before or after the people became LFs gives the same votes and LF names
    before = review.add_annotator_votes(renamed, DOG, "answers")
    after = review.rename_annotators(review.add_annotator_votes(ds, DOG, "answers"), DOG, {"ann@lab.org": "ann"})
    assert before["dog_votes"] == after["dog_votes"]
    names = [[lf["name"] for lf in mmweak.provenance.read_record(d)["tasks"]["dog"]["lfs"]] for d in (before, after)]
    assert names[0] == names[1] == ["annotator:7", "annotator:ann"]


@pytest.mark.parametrize("new", ["", "  ", None, 3])
def test_a_person_is_never_renamed_to_nothing(new):
    with pytest.raises(ValueError, match=r"task 'dog': 'ann@lab.org' would be renamed .*; a person's name is "
                                         r"non-empty text"):
        review.rename_annotators(_crowd(), DOG, lambda name: new if "@" in name else name)


def test_pseudonyms_need_a_key_and_do_not_depend_on_the_round():
    with pytest.raises(ValueError, match="pseudonyms need a non-empty key"):
        review.pseudonyms("")
    first, later = review.pseudonyms(b"k"), review.pseudonyms("k")
    assert first("ann@lab.org") == later("ann@lab.org") != review.pseudonyms("other")("ann@lab.org")
    with pytest.raises(ValueError, match="task 'dog' has no answers column and no annotator LFs"):
        review.rename_annotators(datasets.Dataset.from_dict({"text": ["a"]}), DOG, first)
