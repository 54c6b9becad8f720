"""What travels with a Ray dataset besides its rows: split name, ``datasets`` features, the weak-supervision record.

A ``ray.data.Dataset`` has no ``DatasetInfo``, so mmweak keeps this in two places: on the dataset object
mmweak returns (``rds._mmweak_meta``), and in the Arrow schema metadata of every block its operators
write (``huggingface``: the features, exactly as ``datasets`` stores them in Arrow and Parquet files;
``mmweak``: split, description and record). A dataset derived by batch operations on Arrow blocks
(``filter`` with an expression, ``select_columns``, ``map_batches(batch_format="pyarrow")`` that keeps the
schema) still carries the second; row-wise ``map`` and ``filter`` drop it, and mmweak then says so.

Every block also has :data:`ROW_COLUMN`, each row's number in its source split: errors name rows by it,
as the local engine does, and :func:`mmweak.ray.save_curated` leaves it out of the published files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
from datasets import Features

from ..errors import MMWeakError
from ..provenance import describe, parse_description

#: Row number of each row in its source split (``int64``), kept by every mmweak operator.
ROW_COLUMN = "__mmweak_row"
_HF_KEY = b"huggingface"
_MMWEAK_KEY = b"mmweak"
_ATTR = "_mmweak_meta"


@dataclass
class Meta:
    """Split name, features of the data columns (not :data:`ROW_COLUMN`), user description and record."""

    split: str
    features: Features
    record: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    rows: int | None = None  # the row count, when an mmweak pass has counted it

    def evolve(self, **changes: Any) -> "Meta":
        return replace(self, **changes)

    def schema(self) -> pa.Schema:
        """The Arrow schema of the blocks: the features' columns, :data:`ROW_COLUMN`, and this metadata."""
        base = self.features.arrow_schema
        return pa.schema([*base, pa.field(ROW_COLUMN, pa.int64())], metadata=self.metadata())

    def metadata(self) -> dict[bytes, bytes]:
        hf = self.features.arrow_schema.metadata or {}
        info = {"split": self.split, "description": describe(self.description, self.record)}
        return {**hf, _MMWEAK_KEY: json.dumps(info).encode()}


def attach(rds: Any, meta: Meta) -> Any:
    """``rds`` with ``meta`` attached (the object itself, returned for chaining).

    The record is stored as the local engine stores it (encoded, decoded back), so both engines hand the
    card the same record, down to the order of its keys.
    """
    setattr(rds, _ATTR, meta.evolve(record=canonical(meta.record)))
    return rds


def canonical(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` after the round trip through a dataset description that :mod:`mmweak.provenance` makes."""
    return parse_description(describe("", record))[1]


def meta_of(rds: Any, *, what: str = "this Ray dataset") -> Meta:
    """The :class:`Meta` of a dataset mmweak made (or derived from one); :class:`MMWeakError` if it has none."""
    meta = getattr(rds, _ATTR, None)
    if meta is not None:
        return meta
    schema = rds.schema()
    base = getattr(schema, "base_schema", schema)
    md = (base.metadata or {}) if isinstance(base, pa.Schema) else {}
    if _MMWEAK_KEY not in md or ROW_COLUMN not in base.names:
        raise MMWeakError(
            f"{what} carries no mmweak metadata: read it with mmweak.ray.read(...), and transform it with batch "
            f"operations on Arrow blocks (map_batches(..., batch_format='pyarrow') keeping the schema metadata, "
            f"filter(expr=...), select_columns); row-wise map/filter drop the features and the weak-supervision "
            f"record, and the {ROW_COLUMN!r} column errors name rows by"
        )
    info = json.loads(md[_MMWEAK_KEY])
    description, record = parse_description(info["description"])
    names = [n for n in base.names if n != ROW_COLUMN]
    features = Features.from_arrow_schema(base.remove_metadata().remove(base.get_field_index(ROW_COLUMN))
                                          .with_metadata({k: v for k, v in md.items() if k == _HF_KEY}))
    features = Features({n: features[n] for n in names})
    return Meta(split=info["split"], features=features, record=record, description=description)


def conform(table: pa.Table, meta: Meta) -> pa.Table:
    """``table`` with exactly the columns, types and metadata ``meta`` describes (cast where they differ)."""
    schema = meta.schema()
    if table.schema.names != schema.names:
        table = table.select(schema.names)
    if not table.schema.equals(schema, check_metadata=False):
        table = table.cast(schema)
    return table.replace_schema_metadata(schema.metadata)
