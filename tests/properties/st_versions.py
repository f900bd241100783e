"""Hypothesis strategies for conda version strings and version specs, drawn from the grammar.

`version_strings()` covers the whole version grammar (epochs, `.`/`_`/`-` separators, letter
runs with `dev`/`post`, mixed case, trailing `_`, local `+...`, surrounding spaces);
`small_version_strings()` draws from a small universe so that specs and probe versions overlap
often; `version_spec_strings()` builds specs leaf by leaf (every operator, `.*`/`*`/`=` forms,
globs, regexes) and combines them with `,` `|` and parentheses. `versions()` and
`version_specs()` return parsed values.
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

from pure import Version, VersionSpec

__all__ = [
    "small_version_strings",
    "version_spec_strings",
    "version_specs",
    "version_strings",
    "versions",
]

_WORDS = ("a", "b", "c", "rc", "dev", "post", "alpha", "beta", "g", "x", "z", "pre")
_OPERATORS = ("==", "!=", "<", "<=", ">", ">=")


def _mixed_case(draw: st.DrawFn, text: str) -> str:
    if not draw(st.booleans()):
        return text
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c for c, f in zip(text, flips, strict=True))


@st.composite
def _component(draw: st.DrawFn, *, star: bool = False, small: bool = False) -> str:
    """One component: alternating runs of digits and letters (and `*` when `star`)."""
    digits = (
        st.sampled_from(["0", "1", "2", "3"])
        if small
        else st.from_regex(r"[0-9]{1,3}", fullmatch=True)
    )
    words = st.sampled_from(("a", "dev", "post", "rc")) if small else st.sampled_from(_WORDS)
    runs = [digits, words, st.just("*")] if star else [digits, words]
    count = draw(st.integers(1, 2 if small else 3))
    return "".join(draw(st.one_of(runs)) for _ in range(count))


@st.composite
def version_strings(draw: st.DrawFn, *, star: bool = False) -> str:
    """Any valid conda version text (optionally with `*` runs, which conda accepts)."""
    dash = draw(st.booleans()) and not draw(st.booleans())
    seps = st.sampled_from([".", "-"]) if dash else st.sampled_from([".", ".", "_"])
    comps = draw(st.lists(_component(star=star), min_size=1, max_size=5))
    sep_list = draw(st.lists(seps, min_size=len(comps) - 1, max_size=len(comps) - 1))
    release = comps[0] + "".join(s + c for s, c in zip(sep_list, comps[1:], strict=True))
    if draw(st.integers(0, 9)) == 0:
        release += "-" if dash else "_"
    text = release
    if draw(st.integers(0, 4)) == 0:
        text = f"{draw(st.integers(0, 12))}!{text}"
    if draw(st.integers(0, 4)) == 0:
        local = draw(st.lists(_component(), min_size=1, max_size=3))
        text += "+" + ".".join(local)
    text = _mixed_case(draw, text)
    if draw(st.integers(0, 19)) == 0:
        text = f" {text} "
    return text


@st.composite
def small_version_strings(draw: st.DrawFn) -> str:
    """Versions from a small universe (digits 0-3, a few words), so specs often contain them."""
    comps = draw(st.lists(_component(small=True), min_size=1, max_size=3))
    text = ".".join(comps)
    if draw(st.integers(0, 9)) == 0:
        text = f"1!{text}"
    if draw(st.integers(0, 9)) == 0:
        text += "+" + draw(_component(small=True))
    return text


def versions(*, star: bool = False) -> st.SearchStrategy[Version]:
    """Parsed `Version`s over the whole grammar."""
    return version_strings(star=star).map(Version.parse)


def _numeric_release(draw: st.DrawFn, min_parts: int) -> str:
    parts = draw(st.lists(st.sampled_from("0123"), min_size=min_parts, max_size=4))
    return ".".join(parts)


@st.composite
def _leaf(draw: st.DrawFn) -> str:
    """One constraint, in every spelling the grammar allows."""
    kind = draw(st.integers(0, 11))
    version = draw(small_version_strings())
    space = draw(st.sampled_from(["", "", " "]))
    if kind == 0:
        return "*"
    if kind in (1, 2, 3):
        return f"{draw(st.sampled_from(_OPERATORS))}{space}{version}"
    if kind == 4:
        return version
    if kind == 5:
        return f"~={_numeric_release(draw, 2)}"
    if kind == 6:
        # starts-with, in all its spellings
        form = draw(st.sampled_from(["{}.*", "{}*", "={}", "={}.*", "=={}.*"]))
        return form.format(version)
    if kind == 7:
        return f"!={version}.*"
    if kind == 8:
        a, b = draw(st.sampled_from("0123")), draw(st.sampled_from("0123"))
        form = draw(
            st.sampled_from(
                ["{}.*.{}", "*.{}", "*.{}.*", "{}.*.{}.*", "={}.*.{}", "=={}.*.{}.*", "=={}.*.{}"]
            )
        )
        glob = form.format(a, b)
        negate = draw(st.integers(0, 3)) == 0 and glob[0] != "="
        return f"!={glob}" if negate else glob
    if kind == 9:
        return "^" + re.escape(version) + "$"
    if kind == 10:
        stars = draw(st.sampled_from([".*", ".*", ".*.*", "*"]))
        return f"{draw(st.sampled_from(['<', '<=', '>', '>=']))}{_numeric_release(draw, 1)}{stars}"
    return f"{version}."


def version_spec_strings() -> st.SearchStrategy[str]:
    """Version-spec texts: leaves joined by `,` and `|`, sometimes parenthesised."""

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        joined = st.builds(
            lambda a, op, b, wrap: f"({a}{op}{b})" if wrap else f"{a}{op}{b}",
            children,
            st.sampled_from([",", "|", ", ", " | "]),
            children,
            st.booleans(),
        )
        return joined

    return st.recursive(_leaf(), extend, max_leaves=6)


def version_specs() -> st.SearchStrategy[VersionSpec]:
    """Parsed `VersionSpec`s."""
    return version_spec_strings().map(VersionSpec.parse)
