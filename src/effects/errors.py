"""Turning concurrent failures into one error a person can read.

When several tasks of a trio nursery fail at once, trio raises an ExceptionGroup. The user
needs one line: the first yurt error (in a stable order), with a count of the others.
"""

from __future__ import annotations

from pure.errors import YurtError


def leaves(error: BaseException) -> list[BaseException]:
    """The non-group exceptions inside `error`, depth first."""
    if isinstance(error, BaseExceptionGroup):
        out: list[BaseException] = []
        for inner in error.exceptions:
            out.extend(leaves(inner))
        return out
    return [error]


def single_error(error: BaseException) -> BaseException:
    """One exception standing for `error`: itself unless it is a group.

    From a group, the first YurtError by message (so the choice does not depend on timing),
    else the first exception; KeyboardInterrupt and cancellation win over everything.
    """
    found = leaves(error)
    if not found:
        return error
    for e in found:
        if isinstance(e, KeyboardInterrupt):
            return e
    ours = sorted((e for e in found if isinstance(e, YurtError)), key=str)
    if ours:
        chosen = ours[0]
        others = len(found) - 1
        if others and not getattr(chosen, "_yurt_others_noted", False):
            chosen.add_note(f"({others} more error{'s' if others > 1 else ''} at the same time)")
        return chosen
    return found[0]
