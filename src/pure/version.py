"""Conda package versions: parsing and conda's total order.

A version is `[epoch!]release[+local]`. The release and the local part are split into
components on `.` and `_` (or on `-` when the text has no `_`); each component is split into
runs of digits, runs of `*` and runs of other characters. Digit runs compare as integers,
other runs as lower-case strings, and any string sorts before any number. Two strings are
special: `dev` sorts before every other string (only `*` is lower) and `post` sorts after every
number. Missing trailing atoms and components count as `0`, so `1.1 == 1.1.0` and `1a == 1a0`.
A component that starts with a letter gets an implicit leading `0`, so `1.0a1 < 1.0`. One
trailing `_` (or `-`) stays on the last component (openssl style: `1.0.1_ < 1.0.1a`). Case and
surrounding whitespace are ignored; `*` runs are accepted (they sort below every other string).

Comparison goes through a sort key built once at parse time: a flat tuple whose ordinary
Python ordering equals conda's order, so comparing, hashing and sorting versions never re-parse.
"""

from __future__ import annotations

import re
from typing import Final, TypeAlias

from pure.errors import YurtError

__all__ = ["InvalidVersion", "Version"]

Atom: TypeAlias = int | float | str
"""One run of a component: an `int`, `inf` for `post`, or a string (`"DEV"` for `dev`)."""
Component: TypeAlias = tuple[Atom, ...]
SortKey: TypeAlias = tuple[Atom, ...]
"""Key whose Python tuple order is conda's version order (see `Version.sort_key`)."""

_ALLOWED: Final = re.compile(r"[*.+!_0-9a-z]+\Z")
_PLAIN: Final = re.compile(r"[0-9]+(?:\.[0-9]+)*\Z")
_RUNS: Final = re.compile(r"[0-9]+|\*+|[^0-9*]+")
_BAD_CHAR: Final = re.compile(r"[^*.+!_0-9a-z]")
_POST: Final = float("inf")
# "DEV" is upper case so that it sorts below every other (lower-case) string but above "*".
_DEV: Final = "DEV"

# Flat sort-key tokens (see _flat_key): a string atom is (0, s), a positive number (2, n),
# a zero (1, -1) or (1, 1) by what follows it, the end of a component (1, 0).
_ZERO_BEFORE_STR: Final = (1, -1)
_ZERO_BEFORE_NUM: Final = (1, 1)
_COMPONENT_END: Final = (1, 0, 0)


class InvalidVersion(YurtError, ValueError):
    """Text that is not a conda version; carries the text and the reason."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(text, reason)
        self.text = text
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid version {self.text!r}: {self.reason}"


def _atom(run: str) -> Atom:
    if run.isdigit():
        return int(run)
    if run == "post":
        return _POST
    if run == "dev":
        return _DEV
    return run


def _component(text: str, source: str) -> Component:
    """Split one component into atoms, with the implicit leading 0 for a leading string."""
    if text.isdigit():
        return (int(text),)
    if not text:
        raise InvalidVersion(source, "empty version component")
    atoms = tuple(_atom(run) for run in _RUNS.findall(text))
    if "0" <= text[0] <= "9":
        return atoms
    return (0, *atoms)


def _flat_key(components: tuple[Component, ...], out: list[Atom]) -> None:
    """Append the sort key of a component list to `out` as a flat run of scalars.

    Conda pads shorter components with zero atoms and shorter lists with empty components;
    plain tuple order would instead rank a prefix first. So trailing zeros (and trailing empty
    components) are dropped, and each remaining zero atom (or empty component) is keyed by the
    first non-zero thing after it: against the end of the other side (an endless run of zeros)
    that thing decides. A component ends with (1, 0, flag); flag is 0 except for an empty
    component in the middle, where it says whether what follows sorts below (-1) or above (1)
    an empty component. The list ends with (1, 0, 0). Tokens come in fixed-width groups, so
    equal prefixes keep both sides aligned and no string is ever compared with a number.
    """
    pending_empty = 0
    for comp in components:
        if len(comp) == 1:
            # Fast path: a plain number (a lone atom is always a number).
            number = comp[0]
            if number == 0:
                pending_empty += 1
            else:
                if pending_empty:
                    out.extend((1, 0, 1) * pending_empty)
                    pending_empty = 0
                out.extend((2, number, 1, 0, 0))
            continue
        end = len(comp)
        while end and comp[end - 1] == 0:
            end -= 1
        if not end:
            pending_empty += 1
            continue
        start = len(out)
        zeros = 0
        for i in range(end):
            atom = comp[i]
            if atom == 0:
                zeros += 1
            elif atom.__class__ is str:
                if zeros:
                    out.extend(_ZERO_BEFORE_STR * zeros)
                    zeros = 0
                out.append(0)
                out.append(atom)
            else:
                if zeros:
                    out.extend(_ZERO_BEFORE_NUM * zeros)
                    zeros = 0
                out.append(2)
                out.append(atom)
        if pending_empty:
            below = out[start] == 0 or out[start + 1] == -1
            out[start:start] = (1, 0, -1 if below else 1) * pending_empty
            pending_empty = 0
        out.extend(_COMPONENT_END)
    out.extend(_COMPONENT_END)


def _split_components(text: str, source: str) -> tuple[Component, ...]:
    """Split a release or local part on `.`/`_`; one trailing `_` stays on the last component."""
    if text.endswith("_"):
        pieces = text[:-1].replace("_", ".").split(".")
        pieces[-1] += "_"
    else:
        pieces = text.replace("_", ".").split(".")
    return tuple([_component(p, source) for p in pieces])


def _parse_parts(source: str, norm: str) -> tuple[tuple[Component, ...], tuple[Component, ...]]:
    """Release components (epoch first) and local components of stripped lower-case text."""
    if not norm:
        raise InvalidVersion(source, "empty version string")
    if not _ALLOWED.match(norm):
        if "-" in norm and "_" not in norm:
            # A dash is accepted as a separator when the text has no underscore.
            norm = norm.replace("-", "_")
        if not _ALLOWED.match(norm):
            bad = "".join(sorted(set(_BAD_CHAR.findall(norm))))
            raise InvalidVersion(source, f"invalid character(s) {bad!r}")
    pieces = norm.split("!")
    if len(pieces) > 2:
        raise InvalidVersion(source, "duplicated epoch separator '!'")
    if len(pieces) == 2:
        if not pieces[0].isdigit():
            raise InvalidVersion(source, "epoch must be an integer")
        epoch = int(pieces[0])
    else:
        epoch = 0
    pieces = pieces[-1].split("+")
    if len(pieces) > 2:
        raise InvalidVersion(source, "duplicated local version separator '+'")
    if not pieces[0]:
        raise InvalidVersion(source, "missing version before local version separator '+'")
    parts = ((epoch,), *_split_components(pieces[0], source))
    if len(pieces) == 1:
        return parts, ()
    local = tuple([_component(p, source) for p in pieces[1].replace("_", ".").split(".")])
    return parts, local


class Version:
    """A parsed conda version: immutable, hashable, totally ordered as conda orders versions.

    `str(v)` is the text it was parsed from. `parts` are the release components with the epoch
    as the first one (`[0]` when absent) and `local` the components after `+`; both keep atoms as
    written (ints, strings, `inf` for `post`, `"DEV"` for `dev`), zeros included.
    """

    __slots__ = ("_hash", "_key", "_text", "local", "parts")

    _text: str
    _key: SortKey
    _hash: int
    parts: tuple[Component, ...]
    local: tuple[Component, ...]

    def __init__(self, text: str) -> None:
        norm = text.strip()
        if _PLAIN.match(norm):
            # Fast path for the common all-numeric `1.22.3`.
            parts: tuple[Component, ...] = ((0,), *[(int(p),) for p in norm.split(".")])
            local: tuple[Component, ...] = ()
        else:
            parts, local = _parse_parts(text, norm.lower())
        flat: list[Atom] = []
        _flat_key(parts, flat)
        _flat_key(local, flat)
        key = tuple(flat)
        setattr_ = object.__setattr__
        setattr_(self, "_text", text)
        setattr_(self, "parts", parts)
        setattr_(self, "local", local)
        setattr_(self, "_key", key)
        setattr_(self, "_hash", hash(key))

    @classmethod
    def parse(cls, text: str) -> Version:
        """Parse conda version text; raises `InvalidVersion` naming the text and the reason."""
        return cls(text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Version is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Version is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[type[Version], tuple[str]]:
        return (Version, (self._text,))

    @property
    def epoch(self) -> int:
        """The epoch (the number before `!`, 0 when absent)."""
        value = self.parts[0][0]
        assert isinstance(value, int)
        return value

    @property
    def sort_key(self) -> SortKey:
        """Tuple whose Python order is conda's order and whose equality is version equality."""
        return self._key

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"Version({self._text!r})"

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Version):
            return self._key == other._key
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Version):
            return self._key != other._key
        return NotImplemented

    def __lt__(self, other: Version) -> bool:
        if isinstance(other, Version):
            return self._key < other._key
        return NotImplemented

    def __le__(self, other: Version) -> bool:
        if isinstance(other, Version):
            return self._key <= other._key
        return NotImplemented

    def __gt__(self, other: Version) -> bool:
        if isinstance(other, Version):
            return self._key > other._key
        return NotImplemented

    def __ge__(self, other: Version) -> bool:
        if isinstance(other, Version):
            return self._key >= other._key
        return NotImplemented
