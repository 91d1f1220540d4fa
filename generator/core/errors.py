"""The one error type for bad user input."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input: reported as one line naming the file, the place and the fault.

    Attributes:
        file: the file (or other source) that holds the fault.
        place: where in it, e.g. ``line 3``, ``problems[2].hidden``; may be empty.
        fault: what is wrong, in words a user understands.
    """

    def __init__(self, file: str, place: str, fault: str) -> None:
        self.file = str(file)
        self.place = place
        self.fault = fault
        super().__init__(self.line())

    def __reduce__(self) -> tuple:
        # rebuilt from its three parts when it crosses from a worker process
        return (type(self), (self.file, self.place, self.fault))

    def line(self) -> str:
        """The one-line message: ``file: place: fault``."""
        parts = [self.file] + ([self.place] if self.place else []) + [self.fault]
        return ": ".join(parts)
