"""Human in the loop: send the rows that matter to people, bring their answers back, refit.

The loop: :func:`select` picks rows of a curated dataset for a task (each with the reason it was chosen);
:func:`to_label_studio` sends them to a Label Studio server (or :func:`export_tasks` writes Label Studio's
JSON import file); :func:`from_label_studio` (or :func:`import_annotations` on a JSON export) stores the
answers as ``T_answers`` (who, what, when, why) and their majority ``T_gold``; :func:`mmweak.aggregate` then
fits with the reviewed rows clamped (only rows drawn at random also judge the fit: see
:func:`mmweak.aggregate.fit_with_reviews`). Several annotators per row can also be aggregated like LFs
(:func:`add_annotator_votes`). :func:`simulate` replays the loop with gold labels as the annotators and
measures whether it pays.

>>> import datasets, mmweak
>>> from mmweak import review
>>> spam = mmweak.Task("spam", ["ham", "spam"])
>>> link = mmweak.labeling_function(task=spam, inputs="text")(lambda b: [1 if "http" in t else -1 for t in b["text"]])
>>> ds = mmweak.aggregate(mmweak.apply_lfs(datasets.Dataset.from_dict({"text": ["http://x", "hi", "ok"]}), [link]))
>>> list(review.select(ds, spam, 2, strategy="no_coverage")["review_reason"])
['no LF voted on this row', 'no LF voted on this row']
"""

from ..annotator_names import annotator_emails, pseudonyms, rename_annotators
from .annotators import add_annotator_votes
from .answers import (
                      Answer,
                      ImportReport,
                      answer_counts,
                      answers_column,
                      answers_feature,
                      consensus,
                      gold_column,
                      merge_answers,
                      review_summary,
                      tied_mask,
)
from .errors import AnnotationError, LabelStudioError
from .files import export_tasks, import_annotations
from .labelstudio import build_tasks, labeling_config
from .selection import STRATEGIES, answers_for, pick_rows, select
from .server import ProjectRef, connect, from_label_studio, to_label_studio
from .simulate import LearningCurve, simulate

__all__ = [
    "STRATEGIES", "Answer", "AnnotationError", "ImportReport", "LabelStudioError", "LearningCurve", "ProjectRef",
    "add_annotator_votes", "annotator_emails", "answer_counts", "answers_column", "answers_for", "answers_feature",
    "build_tasks", "connect", "consensus", "export_tasks", "from_label_studio", "gold_column", "import_annotations",
    "labeling_config", "merge_answers", "pick_rows", "pseudonyms", "rename_annotators", "review_summary", "select",
    "simulate", "tied_mask", "to_label_studio",
]
