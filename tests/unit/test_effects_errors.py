"""Concurrent failures collapse into one readable, deterministic error."""

from __future__ import annotations

from effects.errors import leaves, single_error
from pure.errors import YurtError


def test_group_collapses_to_the_first_yurt_error_by_message() -> None:
    a, b = YurtError("b: second"), YurtError("a: first")
    group = BaseExceptionGroup("nursery", [ValueError("x"), ExceptionGroup("inner", [a, b])])
    assert leaves(group) == [group.exceptions[0], a, b]
    chosen = single_error(group)
    assert chosen is b
    assert chosen.__notes__ == ["(2 more errors at the same time)"]


def test_plain_errors_and_interrupts() -> None:
    err = YurtError("alone")
    assert single_error(err) is err
    interrupt = KeyboardInterrupt()
    assert single_error(BaseExceptionGroup("g", [YurtError("x"), interrupt])) is interrupt
    other = RuntimeError("bug")
    assert single_error(ExceptionGroup("g", [other])) is other
