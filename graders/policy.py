"""The grading policy: the shares and thresholds a run grades by, passed in as one value."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from lstm_exam.generator.core import defaults
from lstm_exam.generator.store.manifest import Manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class GradePolicy:
    """How a run grades: what the steps read instead of globals."""

    carry_forward: Decimal
    """The share of an answer's points for an error carried forward (the spec's)."""
    copy_fit: float = defaults.COPY_FIT
    """Copying: the least share of another variant's answers a sheet must hit."""
    copy_margin: float = defaults.COPY_MARGIN
    """Copying: by how much better than the student's own variant it must fit."""

    @classmethod
    def of(cls, manifest: Manifest) -> GradePolicy:
        """The policy of a worksheet: its carry-forward share, the default thresholds."""
        return cls(carry_forward=manifest.carry_forward)
