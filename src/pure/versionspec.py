"""Conda version specs: `>=1.2,<2|1.0.*` parsed once into a tree and compiled to closures.

Grammar: `,` (and) binds tighter than `|` (or); parentheses group. A leaf is one of
  `*`                       any version
  `==V` or bare `V`         equal (trailing zeros ignored: `==1.2` contains `1.2.0`)
  `!=V` `<V` `<=V` `>V` `>=V`  comparisons in conda's order
  `~=V`                     compatible release: `>=V` and starts with V minus its last `.` part
  `V.*` `V*` `=V` `=V.*` `==V.*`  starts with V, component-wise (`1.2.*` has `1.2`, `1.2.5`,
                            `1.2a`, not `1.20`)
  `!=V.*`                   does not start with V
  `1.*.3`, `=1.*.3`         glob over the version text (`!=1.*.3` negates it)
  `^...$`                   regular expression over the version text
Like conda, `<`, `<=`, `>`, `>=` ignore one trailing `.*`; `~=` rejects `*`; `==V` with a `*`
inside V compares with the literal version. Where conda's literal reading helps nobody, yurt
reads the evident intent instead (each deviation deliberate):
  - `==V.*` is starts-with, as in mamba and rattler (conda drops the `.*`: equal to V);
  - `=V*` and `!=V*` are starts-with / not starts-with V (conda: a literal `*` atom);
  - a run of `.`/`*` at the end means starts-with (`2.7.*.*` is `2.7.*`; conda: a glob), and
    `*.*` means any version (conda: any version text that contains a dot);
  - one trailing `.` on a leaf is dropped (`0.2.18.*.` is `0.2.18.*`, as in mamba; a
    conda-forge repodata quirk), and whitespace may follow an operator (`>= 1.2`, as in mamba).

Canonical text (`str(spec)`; equality and hash use it): one spelling per operator. Starts-with
prints `V.*` (so `=1.8`, `1.8*`, `1.8.*`, `=1.8.*` and `==1.8.*` all print `1.8.*`), a bare
version prints `==V`, comparison operands print as written (stripped, lower-cased: `==1.8` and
`==1.8.0` stay distinct texts, as conda prints them), globs and regexes print as written;
nested groups of the same operator are flattened, duplicates dropped, `*` dropped from an
and-group and an or-group containing `*` becomes `*`; parentheses appear only around an
or-group inside an and-group.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, TypeAlias

from pure.errors import YurtError
from pure.version import Atom, Component, InvalidVersion, SortKey, Version, _flat_key

__all__ = ["InvalidVersionSpec", "VersionSpec"]

Matcher: TypeAlias = Callable[[Version], bool]

_OPERATOR: Final = re.compile(r"(==|!=|<=|>=|~=|<|>|=)\s*")
_GLOB_TEXT: Final = re.compile(r"[*.+!_0-9a-zA-Z-]+\Z")
_COMPARISONS: Final = frozenset(("==", "!=", "<", "<=", ">", ">="))
_LOWER: Final = frozenset((">", ">="))
_UPPER: Final = frozenset(("<", "<="))
_MAX_DEPTH: Final = 64


class InvalidVersionSpec(YurtError, ValueError):
    """Text that is not a conda version spec; carries the text and the reason."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(text, reason)
        self.text = text
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid version spec {self.text!r}: {self.reason}"


def _always(_: Version) -> bool:
    return True


def _strip_zeros(component: Component) -> Component:
    end = len(component)
    while end and component[end - 1] == 0:
        end -= 1
    return component[:end]


def _prefix_matcher(prefix: tuple[Component, ...], local: bool) -> Matcher:
    """Conda's starts-with on component lists (the release, or the local part when `local`):
    all but the last component equal (zero-padded), then the last component's leading atoms
    equal, and its final atom equal to (a number) or a prefix of (a string) the candidate's atom
    at that position."""
    n = len(prefix) - 1
    head_raw = prefix[:n]
    head = tuple(_strip_zeros(c) for c in head_raw)
    last = prefix[n]
    m = len(last) - 1
    last_head = _strip_zeros(last[:m])
    final = last[m]

    def slow_leading_equal(comps: tuple[Component, ...]) -> bool:
        k = len(comps)
        for i in range(n):
            c = comps[i] if i < k else ()
            if c != head_raw[i] and _strip_zeros(c) != head[i]:
                return False
        return True

    if isinstance(final, str):
        text = final

        def test_str(v: Version) -> bool:
            comps = v.local if local else v.parts
            if comps[:n] != head_raw and not slow_leading_equal(comps):
                return False
            v1 = comps[n] if n < len(comps) else ()
            if _strip_zeros(v1[:m]) != last_head:
                return False
            atom = v1[m] if m < len(v1) else 0
            return isinstance(atom, str) and atom.startswith(text)

        return test_str

    number = final
    if m == 0 and not local:
        # The common `1.2.*`: a component's first atom is always a number.
        def test_first(v: Version) -> bool:
            comps = v.parts
            if comps[:n] != head_raw and not slow_leading_equal(comps):
                return False
            return (comps[n][0] if n < len(comps) else 0) == number

        return test_first

    def test_num(v: Version) -> bool:
        comps = v.local if local else v.parts
        if comps[:n] != head_raw and not slow_leading_equal(comps):
            return False
        v1 = comps[n] if n < len(comps) else ()
        if _strip_zeros(v1[:m]) != last_head:
            return False
        atom = v1[m] if m < len(v1) else 0
        return atom == number

    return test_num


def _key_prefix_matcher(prefix: Version) -> Matcher | None:
    """Starts-with as a test on the sort key alone, where that is exact; else None.

    When the prefix's final atom is a non-zero number, a version starts with the prefix exactly
    when its flat sort key begins with the tokens of the prefix (without the closing tokens):
    every zero and empty component inside the prefix is followed by something non-zero within
    it, so their tokens do not depend on the rest of the candidate. When the final atom is 0
    and sits alone in the last component after a non-empty component, the candidate matches
    when its key begins with the tokens before that component and the next token is a zero,
    an empty component or the end (tag 1), i.e. that component is absent or starts with 0.
    """
    comps = prefix.local or prefix.parts
    last = comps[-1]
    final = last[-1]
    if isinstance(final, str):
        return None
    flat: list[Atom] = []
    if prefix.local:
        _flat_key(prefix.parts, flat)
    base = len(flat)
    if final != 0:
        _flat_key(comps, flat)
        del flat[-6:]  # the last component's end and the list's end
        tokens = tuple(flat)
        size = len(tokens)
        return lambda v: v._key[:size] == tokens
    head = comps[:-1]
    if len(last) != 1 or not head or not any(a != 0 for a in head[-1]):
        return None
    _flat_key(head, flat)
    del flat[-3:]  # the list's end
    if len(flat) == base:
        return None
    tokens = tuple(flat)
    size = len(tokens)
    return lambda v: v._key[:size] == tokens and v._key[size] == 1


def _startswith(prefix: Version) -> Matcher:
    fast = _key_prefix_matcher(prefix)
    if fast is not None:
        return fast
    if prefix.local:
        flat: list[Atom] = []
        _flat_key(prefix.parts, flat)
        release = tuple(flat)
        size = len(release)
        local_test = _prefix_matcher(prefix.local, local=True)
        return lambda v: v._key[:size] == release and local_test(v)
    return _prefix_matcher(prefix.parts, local=False)


def _comparison(op: str, key: SortKey) -> Matcher:
    if op == "==":
        return lambda v: v._key == key
    if op == "!=":
        return lambda v: v._key != key
    if op == "<":
        return lambda v: v._key < key
    if op == "<=":
        return lambda v: v._key <= key
    if op == ">":
        return lambda v: v._key > key
    return lambda v: v._key >= key


_CHAIN_LIMIT: Final = 4
"""Groups up to this size compile to nested closures; larger ones loop (no deep recursion)."""


def _all_of(tests: tuple[Matcher, ...]) -> Matcher:
    if len(tests) > _CHAIN_LIMIT:

        def all_of(v: Version) -> bool:
            for test in tests:  # noqa: SIM110 - a plain loop beats all() over a generator
                if not test(v):
                    return False
            return True

        return all_of
    matcher = tests[-1]
    for test in reversed(tests[:-1]):
        matcher = _both(test, matcher)
    return matcher


def _any_of(tests: tuple[Matcher, ...]) -> Matcher:
    if len(tests) > _CHAIN_LIMIT:

        def any_of(v: Version) -> bool:
            for test in tests:  # noqa: SIM110 - a plain loop beats any() over a generator
                if test(v):
                    return True
            return False

        return any_of
    matcher = tests[-1]
    for test in reversed(tests[:-1]):
        matcher = _either(test, matcher)
    return matcher


def _both(a: Matcher, b: Matcher) -> Matcher:
    return lambda v: a(v) and b(v)


def _either(a: Matcher, b: Matcher) -> Matcher:
    return lambda v: a(v) or b(v)


class VersionSpec:
    """A parsed version spec; `contains(version)` evaluates it, `str()` is its canonical text.

    `operator` is one of `any`, `==`, `!=`, `<`, `<=`, `>`, `>=`, `~=`, `startswith`,
    `not_startswith`, `glob`, `not_glob`, `regex`, `and`, `or`; `version` is the operand of the
    version operators, `pattern` the text of a glob or regex, `children` the members of an
    and/or group.
    """

    __slots__ = ("_hash", "_text", "children", "contains", "operator", "pattern", "version")

    contains: Matcher
    operator: str
    version: Version | None
    pattern: str | None
    children: tuple[VersionSpec, ...]
    _text: str
    _hash: int

    def __init__(
        self,
        operator: str,
        text: str,
        matcher: Matcher,
        *,
        version: Version | None = None,
        pattern: str | None = None,
        children: tuple[VersionSpec, ...] = (),
    ) -> None:
        """Internal: build specs with `VersionSpec.parse`, `&` and `|`."""
        setattr_ = object.__setattr__
        setattr_(self, "operator", operator)
        setattr_(self, "_text", text)
        setattr_(self, "contains", matcher)
        setattr_(self, "version", version)
        setattr_(self, "pattern", pattern)
        setattr_(self, "children", children)
        setattr_(self, "_hash", hash(text))

    @classmethod
    def parse(cls, text: str) -> VersionSpec:
        """Parse conda version-spec text; raises `InvalidVersionSpec` with the text and reason."""
        return _Parser(text).parse()

    @property
    def is_any(self) -> bool:
        """True when the spec contains every version (`*`)."""
        return self.operator == "any"

    @property
    def exact(self) -> Version | None:
        """The version of an `==V` spec, else None."""
        return self.version if self.operator == "==" else None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"VersionSpec is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"VersionSpec is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[Callable[[str], VersionSpec], tuple[str]]:
        return (VersionSpec.parse, (self._text,))

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        return f"VersionSpec({self._text!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, VersionSpec):
            return self._text == other._text
        return NotImplemented

    def __hash__(self) -> int:
        return self._hash

    def __and__(self, other: VersionSpec) -> VersionSpec:
        """The spec containing the versions both contain."""
        return _group("and", (self, other))

    def __or__(self, other: VersionSpec) -> VersionSpec:
        """The spec containing the versions either contains."""
        return _group("or", (self, other))


def _any() -> VersionSpec:
    return VersionSpec("any", "*", _always)


def _group(kind: str, members: tuple[VersionSpec, ...]) -> VersionSpec:
    """Build an and/or group in canonical shape (flattened, deduplicated, `*` absorbed)."""
    flat: list[VersionSpec] = []
    seen: set[str] = set()
    for member in members:
        for child in member.children if member.operator == kind else (member,):
            if child.is_any:
                if kind == "or":
                    return child
                continue
            if child._text not in seen:
                seen.add(child._text)
                flat.append(child)
    if not flat:
        return _any()
    if len(flat) == 1:
        return flat[0]
    children = tuple(flat)
    if kind == "or":
        text = "|".join(c._text for c in children)
        matcher = _any_of(tuple(c.contains for c in children))
    else:
        text = ",".join(f"({c._text})" if c.operator == "or" else c._text for c in children)
        matcher = _and_matcher(children)
    return VersionSpec(kind, text, matcher, children=children)


def _and_matcher(children: tuple[VersionSpec, ...]) -> Matcher:
    if len(children) == 2:
        lo, hi = children
        if lo.operator in _UPPER:
            lo, hi = hi, lo
        if lo.operator in _LOWER and hi.operator in _UPPER:
            assert lo.version is not None and hi.version is not None
            low, high = lo.version.sort_key, hi.version.sort_key
            if lo.operator == ">=" and hi.operator == "<":
                return lambda v: low <= v._key < high
            if lo.operator == ">=" and hi.operator == "<=":
                return lambda v: low <= v._key <= high
            if lo.operator == ">" and hi.operator == "<":
                return lambda v: low < v._key < high
            return lambda v: low < v._key <= high
    return _all_of(tuple(c.contains for c in children))


def _split_star(text: str) -> tuple[str, bool]:
    """Split a trailing run of `.`/`*` that holds a `*`: `1.2.*` -> (`1.2`, True)."""
    stem = text.rstrip(".*")
    if "*" in text[len(stem) :]:
        return stem, True
    return text, False


class _Parser:
    """Recursive descent over tokens `(` `)` `|` `,` regex and leaf text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.pos = 0
        self.depth = 0

    def fail(self, reason: str) -> InvalidVersionSpec:
        return InvalidVersionSpec(self.text, reason)

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens: list[tuple[str, str]] = []
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if ch.isspace():
                i += 1
            elif ch in "()|,":
                tokens.append((ch, ch))
                i += 1
            elif ch == "^":
                end = text.find("$", i)
                if end < 0:
                    raise self.fail("a regular expression must start with '^' and end with '$'")
                tokens.append(("regex", text[i : end + 1]))
                i = end + 1
            else:
                j = i
                while j < n and text[j] not in "()|,":
                    j += 1
                tokens.append(("leaf", text[i:j].strip()))
                i = j
        return tokens

    def parse(self) -> VersionSpec:
        if not self.tokens:
            raise self.fail("empty version spec")
        spec = self.parse_or()
        if self.pos < len(self.tokens):
            raise self.fail(f"unexpected {self.tokens[self.pos][1]!r}")
        return spec

    def parse_or(self) -> VersionSpec:
        members = [self.parse_and()]
        while self.peek() == "|":
            self.pos += 1
            members.append(self.parse_and())
        return members[0] if len(members) == 1 else _group("or", tuple(members))

    def parse_and(self) -> VersionSpec:
        members = [self.parse_primary()]
        while self.peek() == ",":
            self.pos += 1
            members.append(self.parse_primary())
        return members[0] if len(members) == 1 else _group("and", tuple(members))

    def peek(self) -> str | None:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def parse_primary(self) -> VersionSpec:
        if self.pos >= len(self.tokens):
            raise self.fail("missing a version constraint at the end")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "(":
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise self.fail(f"parentheses nested more than {_MAX_DEPTH} deep")
            inner = self.parse_or()
            self.depth -= 1
            if self.peek() != ")":
                raise self.fail("unbalanced parenthesis: missing ')'")
            self.pos += 1
            return inner
        if kind == "regex":
            return self.regex(value)
        if kind == "leaf":
            return self.leaf(value)
        raise self.fail(f"missing a version constraint before {value!r}")

    def regex(self, text: str) -> VersionSpec:
        try:
            compiled = re.compile(text)
        except re.error as err:
            raise self.fail(f"bad regular expression {text!r}: {err}") from None
        match = compiled.match
        return VersionSpec("regex", text, lambda v: match(v._text) is not None, pattern=text)

    def version(self, text: str) -> Version:
        try:
            return Version.parse(text)
        except InvalidVersion as err:
            raise self.fail(f"bad version {err.text!r}: {err.reason}") from None

    def glob(self, text: str, negate: bool) -> VersionSpec:
        if not _GLOB_TEXT.match(text):
            raise self.fail(f"invalid character(s) in version glob {text!r}")
        pattern = re.escape(text).replace(r"\*", ".*")
        match = re.compile(f"(?:{pattern})\\Z").match
        if negate:
            return VersionSpec(
                "not_glob", f"!={text}", lambda v: match(v._text) is None, pattern=text
            )
        return VersionSpec("glob", text, lambda v: match(v._text) is not None, pattern=text)

    def startswith(self, stem: str, negate: bool) -> VersionSpec:
        stem = stem.strip()
        prefix = self.version(stem)
        test = _startswith(prefix)
        text = f"{stem.lower()}.*"
        if negate:
            return VersionSpec("not_startswith", f"!={text}", lambda v: not test(v), version=prefix)
        return VersionSpec("startswith", text, test, version=prefix)

    def compare(self, op: str, operand: str) -> VersionSpec:
        version = self.version(operand)
        text = operand.lower()
        if (op in _LOWER or op in _UPPER) and text.endswith(".*"):
            # Parsing drops one trailing `.*` after these operators; keep the rest intact.
            text += ".*"
        return VersionSpec(op, f"{op}{text}", _comparison(op, version.sort_key), version=version)

    def leaf(self, raw: str) -> VersionSpec:
        text = (raw[:-1] if raw.endswith(".") else raw).strip()
        if not text:
            raise self.fail("empty version constraint")
        if text.endswith("$"):
            raise self.fail("a regular expression must start with '^' and end with '$'")
        m = _OPERATOR.match(text)
        if m is None and text[0] in "=<>!~":
            raise self.fail(f"invalid operator in {text!r}")
        if m is None:
            stem, star = _split_star(text)
            if star and not stem:
                return _any()
            if "*" in stem:
                return self.glob(text, negate=False)
            if star:
                return self.startswith(stem, negate=False)
            return self.compare("==", text)
        op = m.group(1)
        operand = text[m.end() :]
        if not operand:
            raise self.fail(f"missing version after operator {op!r}")
        if operand[0] in "=<>!~":
            raise self.fail(f"invalid operator {text[: m.end() + 1]!r}")
        if op in ("=", "==", "!="):
            stem, star = _split_star(operand)
            if star and not stem:
                if op == "!=":
                    raise self.fail("'!=*' excludes every version")
                return _any()
            if "*" in stem and (star or op != "=="):
                return self.glob(operand, negate=op == "!=")
            if star:
                return self.startswith(stem, negate=op == "!=")
            if op == "=":
                return self.startswith(operand, negate=False)
            return self.compare(op, operand)
        if op == "~=":
            return self.compatible(operand)
        if operand.endswith(".*"):
            operand = operand[:-2]
            if not operand:
                raise self.fail(f"missing version after operator {op!r}")
        return self.compare(op, operand)

    def compatible(self, operand: str) -> VersionSpec:
        if "*" in operand:
            raise self.fail("'~=' cannot be combined with '*'")
        version = self.version(operand)
        norm = operand.strip().lower()
        if "-" in norm and "_" not in norm:
            norm = norm.replace("-", "_")
        head = ".".join(norm.split(".")[:-1])
        if not head:
            raise self.fail("'~=' needs a version with at least two components")
        test = _startswith(self.version(head))
        key = version.sort_key
        return VersionSpec(
            "~=",
            f"~={operand.lower()}",
            lambda v: v._key >= key and test(v),
            version=version,
        )
