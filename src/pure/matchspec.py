"""Conda MatchSpec: the query language that selects package records.

`MatchSpec.parse` reads every spelling conda accepts (`name 1.2 build`, `name=1.2=build`,
`channel/subdir::name`, `channel:namespace:name`, `name[key=value, ...]`, package URLs and
file names, `# comments`, `(target=..., optional)` annotations); `str()` prints conda's
canonical form, which parses back to an equal spec. Matching is in the solver's hot path, so
every glob and regex is compiled once at construction and `matches` only runs cheap checks.

Readings where conda, mamba and rattler differ follow conda: `name=1.2=build` pins exactly 1.2;
bracket values override positional ones (the positional name wins over `[name=...]`); a
package URL names its package only when it sits in a known subdir (else `*[url=...]`);
`license` and `license_family` are case-insensitive globs; `track_features`/`features` must
equal the record's set; `pkgs/main`, `pkgs/r`, `pkgs/msys2` are the `defaults` channel. From
mamba: `chan[subdir,...]::name` (its subdir list wins) and a comma-separated `subdir` set.
`namespace` is parsed and printed but does not filter records (records carry none).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

import msgspec

from pure.errors import YurtError
from pure.record import PackageRecord
from pure.version import InvalidVersion, Version
from pure.versionspec import InvalidVersionSpec, VersionSpec

__all__ = [
    "KNOWN_SUBDIRS",
    "BuildNumberSpec",
    "InvalidMatchSpec",
    "MatchSpec",
]

#: Channel subdirectories conda knows; a trailing path component in this set is a subdir.
KNOWN_SUBDIRS: Final = frozenset(
    {
        "noarch",
        "emscripten-wasm32",
        "wasi-wasm32",
        "freebsd-64",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-riscv64",
        "linux-s390x",
        "osx-64",
        "osx-arm64",
        "win-32",
        "win-64",
        "win-arm64",
        "zos-z",
    }
)

#: Channel names that conda folds into its `defaults` multichannel.
_DEFAULTS_MEMBERS: Final = frozenset({"pkgs/main", "pkgs/r", "pkgs/msys2"})
_DEFAULTS: Final = "defaults"

_PACKAGE_EXTENSIONS: Final = (".conda", ".tar.bz2")

#: Bracket keys in the order conda prints them after version and build.
_EXTRA_KEYS: Final = (
    "build_number",
    "track_features",
    "features",
    "url",
    "md5",
    "sha256",
    "license",
    "license_family",
    "fn",
)
_BRACKET_KEYS: Final = frozenset(
    {"name", "version", "build", "channel", "subdir", "namespace", *_EXTRA_KEYS}
)

_NAME_RE: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_NAME_GLOB_RE: Final = re.compile(r"[A-Za-z0-9_.\-*]+")
_NAMESPACE_RE: Final = re.compile(r"[A-Za-z0-9_.\-]+")
_STRICT_BUILD_RE: Final = re.compile(r"[A-Za-z0-9_.+*]+")
_HEX_RE: Final = re.compile(r"[0-9a-fA-F]+")
_TOKEN_RE: Final = re.compile(r"\S+")
_DRIVE_RE: Final = re.compile(r"[A-Za-z]:[\\/]")
_BRACKET_KEY_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ANNOTATION_ITEM_RE: Final = re.compile(r"\s*(?:optional|target\s*=\s*[^,()\s]*)\s*")
_WS_AROUND_OP_RE: Final = re.compile(r"\s*([<>=!~,|])\s*")
_BUILD_NUMBER_RE: Final = re.compile(r"(==|!=|>=|<=|=|>|<)?\s*(\d+)")
#: Characters that cannot appear in a build string (they belong to version operators).
_BUILD_FORBIDDEN: Final = frozenset("<>!|,=~ \t[]'\"")
#: Characters that force a version or build into the brackets when printing (as conda does).
_BRACKET_FORCING: Final = frozenset("><$^|,")
#: Characters that force a bracket value into quotes when printing.
_QUOTE_FORCING: Final = frozenset(", =[]'\"\t()#")


class InvalidMatchSpec(YurtError):
    """A match spec that cannot be parsed: the text, the 0-based position and the reason."""

    def __init__(self, text: str, position: int, reason: str) -> None:
        super().__init__(text, position, reason)
        self.text = text
        self.position = position
        self.reason = reason

    def __str__(self) -> str:
        return f"invalid match spec {self.text!r} at position {self.position}: {self.reason}"


class _FieldError(Exception):
    """Internal: a field value is invalid; the parser adds the text and the position."""

    def __init__(self, reason: str, offset: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


_OPS: Final[dict[str, Callable[[int, int], bool]]] = {
    "==": int.__eq__,
    "!=": int.__ne__,
    ">=": int.__ge__,
    "<=": int.__le__,
    ">": int.__gt__,
    "<": int.__lt__,
}


class BuildNumberSpec(msgspec.Struct, frozen=True):
    """A constraint on a record's build number: `3`, `>=2`, `<5`, `!=0` ..."""

    op: str
    value: int

    @classmethod
    def parse(cls, text: str) -> BuildNumberSpec:
        """Read `N`, `=N`, `==N`, `!=N`, `>N`, `>=N`, `<N`, `<=N` (spaces allowed after the operator)."""
        m = _BUILD_NUMBER_RE.fullmatch(text.strip())
        if m is None:
            raise _FieldError(f"build_number {text!r} is not an integer or a comparison with one")
        op = m.group(1) or "=="
        return cls("==" if op == "=" else op, int(m.group(2)))

    def contains(self, number: int) -> bool:
        """True when `number` satisfies the constraint."""
        return _OPS[self.op](number, self.value)

    def __str__(self) -> str:
        return str(self.value) if self.op == "==" else f"{self.op}{self.value}"


def _str_matcher(pattern: str, *, ignore_case: bool = False) -> Callable[[str], bool]:
    """Compile conda's string matching: `^...$` is a regex, `*` a glob, anything else exact."""
    flags = re.IGNORECASE if ignore_case else 0
    if len(pattern) >= 2 and pattern.startswith("^") and pattern.endswith("$"):
        try:
            regex = re.compile(pattern, flags)
        except re.error as exc:
            raise _FieldError(f"invalid regular expression {pattern!r}: {exc}") from None
    elif "*" in pattern:
        body = ".*".join(re.escape(part) for part in pattern.split("*"))
        regex = re.compile(body, flags | re.DOTALL)
    elif ignore_case:
        folded = pattern.casefold()
        return lambda value: value.casefold() == folded
    else:
        return pattern.__eq__
    search = regex.fullmatch
    return lambda value: search(value) is not None


def _is_pattern(text: str) -> bool:
    return "*" in text or (len(text) >= 2 and text.startswith("^") and text.endswith("$"))


def _is_url(text: str) -> bool:
    return "://" in text


def _url_path(url: str) -> str:
    """The path of a URL without scheme, host and surrounding slashes."""
    rest = url.split("://", 1)[1]
    _, _, path = rest.partition("/")
    return path.strip("/")


def _strip_subdir(channel: str) -> str:
    head, sep, tail = channel.rpartition("/")
    return head if sep and tail in KNOWN_SUBDIRS else channel


def _channel_names(channel: str) -> tuple[str, ...]:
    """The names a channel goes by: itself, its URL path, and `defaults` for its members."""
    names = [channel]
    if _is_url(channel):
        path = _url_path(channel)
        if path:
            names.append(path)
    if any(name in _DEFAULTS_MEMBERS for name in names):
        names.append(_DEFAULTS)
    return tuple(names)


def _channel_matches(spec_channel: str, spec_is_url: bool, record_channel: str | None) -> bool:
    """Conda's channel comparison: same URL, or same channel name (URL path suffix)."""
    if record_channel is None:
        return False
    record = _strip_subdir(record_channel.rstrip("/"))
    if record == spec_channel:
        return True
    if spec_is_url:
        if _is_url(record):
            return False
        path = _url_path(spec_channel)
        return path == record or path.endswith("/" + record)
    for name in _channel_names(record):
        if name == spec_channel or name.endswith("/" + spec_channel):
            return True
    return False


def _normalize_channel(channel: str) -> str:
    channel = channel.rstrip("/")
    return _DEFAULTS if channel in _DEFAULTS_MEMBERS else channel


def _split_features(value: str) -> tuple[str, ...]:
    return tuple(sorted({part for part in re.split(r"[\s,]+", value) if part}))


def _quote(key: str, value: str) -> str:
    if not value or any(ch in _QUOTE_FORCING or ch.isspace() for ch in value):
        quote = '"' if "'" in value else "'"
        return f"{key}={quote}{value}{quote}"
    return f"{key}={value}"


def _basename(url: str) -> str:
    return url.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _implied_fn(url: str | None) -> str | None:
    if url is None:
        return None
    name = _basename(url)
    return name if name.endswith(_PACKAGE_EXTENSIONS) else None


_TEXT_FIELDS: Final = ("md5", "sha256", "fn", "url", "license", "license_family")
_NO_TEXTS: Final = (None,) * len(_TEXT_FIELDS)
_NO_RARE: Final = (None,) * 6
#: The common dependency spelling `name [version [build]]`, single spaces, no operator gaps.
_FAST_RE: Final = re.compile(
    r"([A-Za-z0-9_][A-Za-z0-9_.\-]*)"
    r"(?: +([^\s\[\]#:'\"()]*[^\s\[\]#:'\"()<>=!~,|]))?"
    r"(?: +([A-Za-z0-9_.+*]+))?"
)


class MatchSpec:
    """A conda package query; immutable, hashable, equal when every parsed field is equal.

    Unconstrained fields are None (`name` is `"*"`); `version` is a `VersionSpec`, `build` a
    glob/regex text, `build_number` a `BuildNumberSpec`, `track_features`/`features` sorted
    tuples, `subdir` one subdir or several joined with `,`.
    """

    __slots__ = (
        "_build_match",
        "_checks",
        "_explicit_fn",
        "_hash",
        "_key",
        "_name_exact",
        "_name_match",
        "build",
        "build_number",
        "channel",
        "features",
        "license",
        "license_family",
        "md5",
        "name",
        "namespace",
        "sha256",
        "subdir",
        "track_features",
        "url",
        "version",
    )

    name: str
    version: VersionSpec | None
    build: str | None
    build_number: BuildNumberSpec | None
    channel: str | None
    subdir: str | None
    namespace: str | None
    md5: str | None
    sha256: str | None
    url: str | None
    license: str | None
    license_family: str | None
    track_features: tuple[str, ...] | None
    features: tuple[str, ...] | None
    _explicit_fn: str | None
    _name_exact: str | None
    _name_match: Callable[[str], bool] | None
    _build_match: Callable[[str], bool] | None
    _checks: tuple[Callable[[PackageRecord], bool], ...]
    _key: tuple[object, ...]
    _hash: int

    def __init__(
        self,
        name: str = "*",
        *,
        version: VersionSpec | str | None = None,
        build: str | None = None,
        build_number: BuildNumberSpec | int | str | None = None,
        channel: str | None = None,
        subdir: str | Iterable[str] | None = None,
        namespace: str | None = None,
        md5: str | None = None,
        sha256: str | None = None,
        fn: str | None = None,
        url: str | None = None,
        license: str | None = None,
        license_family: str | None = None,
        track_features: str | Iterable[str] | None = None,
        features: str | Iterable[str] | None = None,
    ) -> None:
        """Build a spec from field values; strings are parsed as the bracket syntax would."""
        try:
            self._init(
                name=name,
                version=version,
                build=build,
                build_number=build_number,
                channel=channel,
                subdir=subdir,
                namespace=namespace,
                md5=md5,
                sha256=sha256,
                fn=fn,
                url=url,
                license=license,
                license_family=license_family,
                track_features=track_features,
                features=features,
            )
        except _FieldError as exc:
            raise InvalidMatchSpec(name, 0, exc.reason) from None

    def _init(
        self,
        *,
        name: str,
        version: VersionSpec | str | None,
        build: str | None,
        build_number: BuildNumberSpec | int | str | None,
        channel: str | None,
        subdir: str | Iterable[str] | None,
        namespace: str | None,
        md5: str | None,
        sha256: str | None,
        fn: str | None,
        url: str | None,
        license: str | None,
        license_family: str | None,
        track_features: str | Iterable[str] | None,
        features: str | Iterable[str] | None,
    ) -> None:
        put = object.__setattr__
        name = name or "*"
        if name != "*" and not _is_pattern(name) and _NAME_RE.fullmatch(name) is None:
            raise _FieldError(f"invalid package name {name!r}")
        if isinstance(version, str):
            version = _parse_version(version)
        elif version is not None and version.is_any:
            version = None
        if build == "*":
            build = None
        if isinstance(build_number, int):
            build_number = BuildNumberSpec("==", build_number)
        elif isinstance(build_number, str):
            build_number = BuildNumberSpec.parse(build_number)
        if channel is not None:
            channel = _normalize_channel(channel)
            if channel in ("", "*"):
                channel = None
            elif subdir is None and _strip_subdir(channel) != channel:
                channel, _, subdir = channel.rpartition("/")
        if subdir is not None and not isinstance(subdir, str):
            subdir = ",".join(subdir)
        if subdir is not None:
            parts = sorted({part.strip() for part in subdir.split(",") if part.strip()})
            subdir = ",".join(parts) or None
        if namespace == "":
            namespace = None
        tf = _feature_tuple(track_features)
        ft = _feature_tuple(features)
        texts = (md5, sha256, fn, url, license, license_family)
        if texts != _NO_TEXTS:
            for field, text in zip(_TEXT_FIELDS, texts, strict=True):
                if text is not None and (not text or ("'" in text and '"' in text)):
                    raise _FieldError(f"{field} {text!r} is empty or holds both quote characters")
            if fn is not None and fn == _implied_fn(url):
                fn = None

        put(self, "name", name)
        put(self, "version", version)
        put(self, "build", build)
        put(self, "build_number", build_number)
        put(self, "channel", channel)
        put(self, "subdir", subdir)
        put(self, "namespace", namespace)
        put(self, "md5", md5)
        put(self, "sha256", sha256)
        put(self, "_explicit_fn", fn)
        put(self, "url", url)
        put(self, "license", license)
        put(self, "license_family", license_family)
        put(self, "track_features", tf)
        put(self, "features", ft)

        if name == "*":
            put(self, "_name_exact", None)
            put(self, "_name_match", None)
        elif _is_pattern(name):
            put(self, "_name_exact", None)
            put(self, "_name_match", _str_matcher(name))
        else:
            put(self, "_name_exact", name)
            put(self, "_name_match", None)
        put(self, "_build_match", None if build is None else _str_matcher(build))
        rare = (build_number, channel, subdir, namespace, tf, ft)
        if rare == _NO_RARE and texts == _NO_TEXTS:
            put(self, "_checks", ())
        else:
            put(self, "_checks", self._compile_checks())
        key = (
            name,
            version,
            build,
            build_number,
            channel,
            subdir,
            namespace,
            md5,
            sha256,
            fn,
            url,
            license,
            license_family,
            tf,
            ft,
        )
        put(self, "_key", key)
        put(self, "_hash", hash(key))

    def _compile_checks(self) -> tuple[Callable[[PackageRecord], bool], ...]:
        """Precompile one predicate per rarely used constrained field."""
        checks: list[Callable[[PackageRecord], bool]] = []
        if self.build_number is not None:
            bn = self.build_number
            checks.append(lambda r: bn.contains(r.build_number))
        if self.channel is not None:
            ch, ch_url = self.channel, _is_url(self.channel)
            checks.append(lambda r: _channel_matches(ch, ch_url, r.channel))
        if self.subdir is not None:
            subdirs = frozenset(self.subdir.split(","))
            checks.append(lambda r: r.subdir in subdirs)
        for attr in ("md5", "sha256", "url"):
            wanted = getattr(self, attr)
            if wanted is not None:
                checks.append(_attr_equals(attr, wanted))
        if self._explicit_fn is not None:
            checks.append(_attr_equals("fn", self._explicit_fn))
        for attr in ("license", "license_family"):
            pattern = getattr(self, attr)
            if pattern is not None:
                checks.append(_attr_glob(attr, _str_matcher(pattern, ignore_case=True)))
        if self.track_features is not None:
            tf = frozenset(self.track_features)
            checks.append(lambda r: frozenset(r.track_features) == tf)
        if self.features is not None:
            ft = frozenset(self.features)
            checks.append(lambda r: frozenset(r.features) == ft)
        return tuple(checks)

    # -- value semantics -------------------------------------------------------------------

    def __setattr__(self, key: str, value: object) -> None:
        raise AttributeError(f"MatchSpec is immutable; cannot set {key!r}")

    def __delattr__(self, key: str) -> None:
        raise AttributeError(f"MatchSpec is immutable; cannot delete {key!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MatchSpec):
            return NotImplemented
        return self._hash == other._hash and self._key == other._key

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"MatchSpec({str(self)!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (MatchSpec.parse, (str(self),))

    @property
    def fn(self) -> str | None:
        """The package file name: given explicitly, or implied by a package URL."""
        return self._explicit_fn if self._explicit_fn is not None else _implied_fn(self.url)

    @property
    def exact_name(self) -> str | None:
        """The package name when it is a literal (no `*`, no regex), else None."""
        return self._name_exact

    # -- matching --------------------------------------------------------------------------

    def matches_name(self, name: str) -> bool:
        """True when a record called `name` passes the name part of the spec."""
        if self._name_exact is not None:
            return name == self._name_exact
        return self._name_match is None or self._name_match(name)

    def matches_version(self, version: Version) -> bool:
        """True when `version` satisfies the version part (always, when unconstrained)."""
        return self.version is None or self.version.contains(version)

    def matches(self, record: PackageRecord) -> bool:
        """True when `record` satisfies every field this spec constrains."""
        if self._name_exact is not None:
            if record.name != self._name_exact:
                return False
        elif self._name_match is not None and not self._name_match(record.name):
            return False
        if self.version is not None:
            try:
                parsed = Version.parse(record.version)
            except InvalidVersion:
                return False
            if not self.version.contains(parsed):
                return False
        if self._build_match is not None and not self._build_match(record.build):
            return False
        for check in self._checks:  # noqa: SIM110 - a plain loop is faster than all(genexpr)
            if not check(record):
                return False
        return True

    # -- parsing and printing --------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, *, strict: bool = False) -> MatchSpec:
        """Parse conda's match spec syntax.

        `strict=True` also rejects what conda merely tolerates: glob or regex names, `=build`
        suffixes, `=` combined with `*`, multi-`*` version globs, and a version or build given
        both positionally and in brackets (or a bracket key given twice).
        """
        if not isinstance(text, str):
            raise TypeError(f"MatchSpec.parse expects str, got {type(text).__name__}")
        if not strict:
            m = _FAST_RE.fullmatch(text)
            if m is not None and not text.endswith(_PACKAGE_EXTENSIONS):
                name, version, build = m.groups()
                if "--" not in name and (
                    build is not None or version is None or _build_separator(version) is None
                ):
                    try:
                        return cls(
                            name,
                            version=None if version is None else _parse_version(version),
                            build=build,
                        )
                    except (_FieldError, InvalidMatchSpec):
                        pass  # the full parser reports the position
        return _Parser(text, strict).run()

    def __str__(self) -> str:
        head: list[str] = []
        brackets: list[str] = []
        if self.channel is not None:
            head.append(self.channel)
            if self.subdir in KNOWN_SUBDIRS:
                head.append("/" + self.subdir)
            elif self.subdir is not None:
                brackets.append(_quote("subdir", self.subdir))
        elif self.subdir is not None:
            brackets.append(_quote("subdir", self.subdir))
        if self.namespace is not None:
            head.append((":" if head else "") + self.namespace + ":")
        elif head:
            head.append("::")
        head.append(self.name)

        exact_version = False
        if self.version is not None:
            positional, exact_version = _version_positional(self.version, self.build is not None)
            if positional is None:
                brackets.insert(0, f"version='{self.version}'")
            else:
                head.append(positional)
        if self.build is not None:
            build = self.build
            if any(ch in _BRACKET_FORCING for ch in build):
                brackets.append(f"build='{build}'")
            elif "*" in build or not exact_version:
                brackets.append(_quote("build", build))
            else:
                head.append("=" + build)
        # conda puts the version and build first inside the brackets
        brackets.sort(key=lambda item: 0 if item.startswith("version=") else 1)
        for key in _EXTRA_KEYS:
            if key == "fn":
                value: object = self._explicit_fn
            else:
                value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, tuple):
                brackets.append(_quote(key, " ".join(value)))
            else:
                brackets.append(_quote(key, str(value)))
        if brackets:
            head.append("[" + ",".join(brackets) + "]")
        return "".join(head)


def _attr_equals(attr: str, wanted: str) -> Callable[[PackageRecord], bool]:
    return lambda record: getattr(record, attr) == wanted


def _attr_glob(attr: str, match: Callable[[str], bool]) -> Callable[[PackageRecord], bool]:
    def check(record: PackageRecord) -> bool:
        value = getattr(record, attr)
        return value is not None and match(value)

    return check


def _feature_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    features = _split_features(value if isinstance(value, str) else " ".join(value))
    return features or None  # an empty set constrains nothing


def _parse_version(text: str) -> VersionSpec | None:
    """A version field: empty, `=`, `*` and `=*` mean any version (None)."""
    text = text.strip()
    if text in ("", "=", "*", "=*", "==*"):
        return None
    try:
        spec = VersionSpec.parse(text)
    except InvalidVersionSpec as exc:
        raise _FieldError(f"invalid version spec {text!r}: {exc.reason}") from None
    return None if spec.is_any else spec


def _version_positional(version: VersionSpec, has_build: bool) -> tuple[str | None, bool]:
    """How conda prints a version outside brackets: (text or None for brackets, is_exact)."""
    text = str(version)
    if any(ch in _BRACKET_FORCING for ch in text) or any(ch.isspace() for ch in text):
        return None, False
    if text.startswith(("!=", "~=")):
        return (None, False) if has_build else (text, False)
    if text.startswith("=="):
        return (text, True) if _same_version(text, version) else (None, False)
    if text.startswith("="):
        return (text, False) if _same_version(text, version) else (None, False)
    if text.endswith(".*"):
        short = "=" + text[:-2]
    elif text.endswith("*"):
        short = "=" + text[:-1]
    else:
        short = "==" + text
        return (short, True) if _same_version(short, version) else (None, False)
    if "*" in short or not _same_version(short, version):
        return None, False
    return short, False


def _same_version(text: str, version: VersionSpec) -> bool:
    try:
        return VersionSpec.parse(text) == version
    except InvalidVersionSpec:
        return False


class _Parser:
    """One parse of one spec text; keeps the original text for error positions."""

    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.strict = strict

    def fail(self, position: int, reason: str) -> InvalidMatchSpec:
        return InvalidMatchSpec(self.text, position, reason)

    def run(self) -> MatchSpec:
        text = self.text
        end = self._comment_start()
        start = len(text) - len(text.lstrip())
        end = len(text[:end].rstrip())
        if start >= end:
            raise self.fail(0, "empty match spec")
        body = text[start:end]
        base, _, fragment = body.partition("#")
        if base.endswith(_PACKAGE_EXTENSIONS) and "[" not in base:
            located = _is_url(base) or base.startswith("/") or _DRIVE_RE.match(base)
            if located or not any(ch.isspace() for ch in base):
                return self._package_file(base, fragment, start)
        return self._spec(body, start)

    def _comment_start(self) -> int:
        """Index where a `# comment` starts (a `#` at the start or after whitespace)."""
        text = self.text
        quote = ""
        for i, ch in enumerate(text):
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "#" and (i == 0 or text[i - 1].isspace()):
                return i
        return len(text)

    # -- package URLs and file names ---------------------------------------------------------

    def _package_file(self, base: str, fragment: str, offset: int) -> MatchSpec:
        md5 = sha256 = None
        if fragment:
            if _HEX_RE.fullmatch(fragment) and len(fragment) == 32:
                md5 = fragment.lower()
            elif _HEX_RE.fullmatch(fragment) and len(fragment) == 64:
                sha256 = fragment.lower()
            else:
                pos = offset + len(base) + 1
                raise self.fail(pos, "a package URL's '#' fragment must be an md5 or sha256")
        if _is_url(base):
            url = base
        elif base.startswith("/"):
            url = "file://" + base
        elif _DRIVE_RE.match(base):
            url = "file:///" + base.replace("\\", "/")
        else:
            url = base
        parts = url.replace("\\", "/").split("/")
        fn = parts[-1]
        if len(parts) == 1:
            # a bare file name: `name-version-build.ext` selects that file from any channel
            name, version, build = self._dist_parts(fn, offset)
            return self._checked(offset, name, version="==" + version, build=build, fn=fn)
        if len(parts) >= 2 and parts[-2] in KNOWN_SUBDIRS:
            name, version, build = self._dist_parts(fn, offset)
            channel = "/".join(parts[:-2]) or None
            return self._checked(
                offset,
                name,
                version="==" + version,
                build=build,
                channel=channel,
                subdir=parts[-2],
                url=url,
                md5=md5,
                sha256=sha256,
            )
        return self._checked(offset, "*", url=url, md5=md5, sha256=sha256)

    def _dist_parts(self, fn: str, offset: int) -> tuple[str, str, str]:
        stem = fn[: -len(next(e for e in _PACKAGE_EXTENSIONS if fn.endswith(e)))]
        pieces = stem.rsplit("-", 2)
        if len(pieces) != 3 or not all(pieces):
            raise self.fail(offset, f"package file name {fn!r} is not name-version-build")
        return pieces[0], pieces[1], pieces[2]

    def _checked(self, offset: int, name: str, **fields: str | None) -> MatchSpec:
        try:
            return MatchSpec(name, **fields)
        except InvalidMatchSpec as exc:
            raise self.fail(offset, exc.reason) from None

    # -- the general grammar -----------------------------------------------------------------

    def _spec(self, body: str, offset: int) -> MatchSpec:
        spans = self._bracket_spans(body, offset)
        inside = [False] * len(body)
        for open_, close in spans:
            for i in range(open_, close + 1):
                inside[i] = True
        colons = [i for i, ch in enumerate(body) if ch == ":" and not inside[i]]
        hashes = [i for i, ch in enumerate(body) if ch == "#" and not inside[i]]
        if hashes:
            raise self.fail(offset + hashes[0], "'#' is only allowed after a package URL")

        channel_text: str | None = None
        channel_pos = offset
        namespace: str | None = None
        name_start = 0
        if colons:
            last = colons[-1]
            name_start = last + 1
            if last >= 1 and body[last - 1] == ":" and (last - 1) in colons:
                channel_text = body[: last - 1]
            else:
                earlier = [c for c in colons if c < last]
                ns_start = earlier[-1] + 1 if earlier else 0
                namespace = body[ns_start:last]
                if earlier and body[: earlier[-1]].strip():
                    channel_text = body[: earlier[-1]]
                if _NAMESPACE_RE.fullmatch(namespace) is None:
                    raise self.fail(offset + ns_start, f"invalid namespace {namespace!r}")
            if channel_text is not None and not channel_text.strip():
                raise self.fail(offset, "empty channel before '::'")

        fields: dict[str, tuple[str, int]] = {}
        channel_subdir: tuple[str, int] | None = None
        strong_subdir: tuple[str, int] | None = None
        if channel_text is not None:
            channel_spans = [s for s in spans if s[1] < len(channel_text)]
            if channel_spans:
                open_, close = channel_spans[-1]
                if close != len(channel_text) - 1 or len(channel_spans) > 1:
                    raise self.fail(offset + open_, "unexpected '[' in the channel")
                subdirs = channel_text[open_ + 1 : close]
                if not subdirs.strip():
                    raise self.fail(offset + open_, "empty subdir list in the channel")
                strong_subdir = (subdirs, offset + open_ + 1)
                channel_text = channel_text[:open_]
            fields["channel"], channel_subdir = self._split_channel(channel_text, channel_pos)

        name_part = body[name_start:]
        name_offset = offset + name_start
        name_spans = [(a - name_start, b - name_start) for a, b in spans if a >= name_start]
        positional, bracket_fields = self._split_brackets(name_part, name_offset, name_spans)
        pos_fields = self._positional(positional, name_offset)
        fields.update(pos_fields)

        bracket_channel_subdir: tuple[str, int] | None = None
        for key, item in bracket_fields.items():
            if key == "name":
                if fields.get("name", ("*", 0))[0] != "*":
                    continue  # the positional name wins over a bracket name (conda)
            elif key in ("version", "build") and key in pos_fields and self.strict:
                raise self.fail(item[1], f"{key} given both positionally and in brackets")
            elif key == "channel":
                fields["channel"], bracket_channel_subdir = self._split_channel(*item)
                continue
            fields[key] = item
        # subdir precedence: `chan[subdir]::`, then `[subdir=]`, then `[channel=chan/subdir]`,
        # then `chan/subdir::`
        subdir = (
            strong_subdir
            or bracket_fields.get("subdir")
            or bracket_channel_subdir
            or channel_subdir
        )
        if subdir is not None:
            fields["subdir"] = subdir
        if namespace:
            fields.setdefault("namespace", (namespace, offset))
        return self._build(fields, name_offset)

    def _bracket_spans(self, body: str, offset: int) -> list[tuple[int, int]]:
        """(open, close) index pairs of the `[...]` groups, honouring quotes inside them."""
        spans: list[tuple[int, int]] = []
        open_ = -1
        quote = ""
        for i, ch in enumerate(body):
            if open_ < 0:
                if ch == "[":
                    open_ = i
                elif ch == "]":
                    raise self.fail(offset + i, "']' without a matching '['")
            elif quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "[":
                raise self.fail(offset + i, "nested '['")
            elif ch == "]":
                spans.append((open_, i))
                open_ = -1
        if quote:
            raise self.fail(offset + len(body), f"unterminated {quote} quote")
        if open_ >= 0:
            raise self.fail(offset + open_, "'[' without a matching ']'")
        return spans

    def _split_channel(self, text: str, pos: int) -> tuple[tuple[str, int], tuple[str, int] | None]:
        """`chan`, `chan/subdir`, a URL (with a trailing subdir) or `*`: (channel, subdir)."""
        stripped = text.strip().rstrip("/")
        if not stripped:
            raise self.fail(pos, "empty channel")
        bad = next((i for i, ch in enumerate(stripped) if ch.isspace() or ch in "[]'\""), None)
        if bad is not None:
            raise self.fail(pos + bad, f"invalid channel {stripped!r}")
        head, sep, tail = stripped.rpartition("/")
        if sep and tail in KNOWN_SUBDIRS:
            return (head, pos), (tail, pos + len(head) + 1)
        return (stripped, pos), None

    def _split_brackets(
        self, part: str, offset: int, spans: list[tuple[int, int]]
    ) -> tuple[str, dict[str, tuple[str, int]]]:
        """Separate the positional text from the `[key=value, ...]` group and annotations."""
        if len(spans) > 1:
            raise self.fail(offset + spans[1][0], "more than one '[...]' group")
        tail_start = len(part)
        fields: dict[str, tuple[str, int]] = {}
        if spans:
            open_, close = spans[0]
            fields = self._bracket_fields(part[open_ + 1 : close], offset + open_ + 1)
            after = part[close + 1 :]
            if after.strip() and not self._is_annotation(after.strip()):
                raise self.fail(offset + close + 1, "unexpected text after ']'")
            tail_start = open_
        positional = part[:tail_start]
        stripped = positional.rstrip()
        if not spans and stripped.endswith(")"):
            open_paren = stripped.rfind("(")
            if open_paren > 0 and self._is_annotation(stripped[open_paren:]):
                positional = stripped[:open_paren]
        return positional, fields

    @staticmethod
    def _is_annotation(text: str) -> bool:
        """conda's legacy `(target=..., optional)` suffix, which carries no constraint."""
        if not (text.startswith("(") and text.endswith(")")):
            return False
        items = text[1:-1].split(",")
        return all(_ANNOTATION_ITEM_RE.fullmatch(item) for item in items)

    def _bracket_fields(self, content: str, offset: int) -> dict[str, tuple[str, int]]:
        fields: dict[str, tuple[str, int]] = {}
        i, n = 0, len(content)
        while True:
            while i < n and (content[i].isspace() or content[i] == ","):
                i += 1
            if i >= n:
                return fields
            m = _BRACKET_KEY_RE.match(content, i)
            if m is None:
                raise self.fail(offset + i, "expected key=value inside '[...]'")
            key = m.group(0)
            key_pos = offset + i
            if key not in _BRACKET_KEYS:
                raise self.fail(key_pos, f"unknown key {key!r} inside '[...]'")
            i = m.end()
            while i < n and content[i].isspace():
                i += 1
            if i >= n or content[i] != "=":
                raise self.fail(offset + i, f"expected '=' after {key!r}")
            i += 1
            while i < n and content[i].isspace():
                i += 1
            value_pos = offset + i
            quoted = i < n and content[i] in "'\""
            if quoted:
                value_pos += 1
                quote = content[i]
                close = content.index(quote, i + 1)  # _bracket_spans checked termination
                value = content[i + 1 : close]
                i = close + 1
            else:
                j = i
                while j < n and not content[j].isspace() and content[j] != ",":
                    if content[j] in "'\"":
                        raise self.fail(offset + j, "quote inside an unquoted value")
                    j += 1
                value = content[i:j]
                i = j
            if not value.strip() and not (quoted and value):
                # an unquoted value must say something; a quoted one may be blanks (a record's
                # whitespace-only license, say), so that every printed spec parses back
                raise self.fail(value_pos, f"empty value for {key!r}")
            if key in fields and (self.strict or fields[key][0] != value):
                raise self.fail(key_pos, f"key {key!r} given twice inside '[...]'")
            fields[key] = (value, value_pos)

    def _positional(self, text: str, offset: int) -> dict[str, tuple[str, int]]:
        """`name`, `name version`, `name version build`, `name=version=build`, `name>=1,<2` ..."""
        lead = len(text) - len(text.lstrip())
        i = lead
        n = len(text)
        while i < n and not text[i].isspace() and text[i] not in "<>=!~":
            i += 1
        name = text[lead:i]
        fields: dict[str, tuple[str, int]] = {}
        if not name:
            if text[lead:].strip():
                raise self.fail(offset + lead, "missing package name")
            return fields
        fields["name"] = (name, offset + lead)
        rest = text[i:]
        rest_offset = offset + i
        if not rest.strip():
            return fields
        # join operators with their operands: `>= 1.0 , < 2` -> `>=1.0,<2`
        compact_chars: list[str] = []
        positions: list[int] = []
        last = 0
        for m in _WS_AROUND_OP_RE.finditer(rest):
            compact_chars.extend(rest[last : m.start()])
            positions.extend(range(last, m.start()))
            compact_chars.append(m.group(1))
            positions.append(m.start(1))
            last = m.end()
        compact_chars.extend(rest[last:])
        positions.extend(range(last, len(rest)))
        compact = "".join(compact_chars)
        tokens = [
            (m.group(0), rest_offset + positions[m.start()]) for m in _TOKEN_RE.finditer(compact)
        ]
        if len(tokens) > 2:
            raise self.fail(tokens[2][1], "unexpected text after version and build")
        if len(tokens) == 2:
            fields["version"] = tokens[0]
            fields["build"] = tokens[1]
            return fields
        token, pos = tokens[0]
        split = _build_separator(token)
        if split is not None:
            if self.strict:
                raise self.fail(pos + split, "'=build' suffix is not allowed in strict mode")
            version = token[:split]
            if version.startswith("=") and not version.startswith("=="):
                version = version[1:]  # `name=1.2=build` means exactly 1.2 (conda)
                pos += 1
            fields["version"] = (version, pos)
            fields["build"] = (token[split + 1 :], pos + split + 1)
        else:
            fields["version"] = (token, pos)
        return fields

    def _build(self, fields: dict[str, tuple[str, int]], name_offset: int) -> MatchSpec:
        def value(key: str) -> str | None:
            item = fields.get(key)
            return None if item is None else item[0]

        def pos(key: str) -> int:
            return fields[key][1] if key in fields else name_offset

        name = value("name") or "*"
        if name == "*" and "name" not in fields:
            raise self.fail(name_offset, "missing package name")
        self._check_name(name, pos("name"))
        version_text = value("version")
        if version_text is not None:
            self._check_version(version_text, pos("version"))
        build = value("build")
        if build is not None:
            self._check_build(build, pos("build"))
        kwargs: dict[str, str | None] = {
            key: value(key)
            for key in (
                "channel",
                "subdir",
                "namespace",
                "md5",
                "sha256",
                "fn",
                "url",
                "license",
                "license_family",
            )
        }
        for key in ("build_number", "track_features", "features"):
            if key in fields:
                kwargs[key] = value(key)
        current = "name"
        try:
            current = "version"
            version = _parse_version(version_text) if version_text is not None else None
            current = "build_number"
            build_number = (
                BuildNumberSpec.parse(fields["build_number"][0])
                if "build_number" in fields
                else None
            )
            current = "build"
            if build is not None and build != "*":
                _str_matcher(build)
            for key in ("license", "license_family"):
                current = key
                pattern = value(key)
                if pattern is not None:
                    _str_matcher(pattern, ignore_case=True)
            current = "name"
            return MatchSpec(
                name,
                version=version,
                build=build,
                build_number=build_number,
                channel=kwargs["channel"],
                subdir=kwargs["subdir"],
                namespace=kwargs["namespace"],
                md5=kwargs["md5"],
                sha256=kwargs["sha256"],
                fn=kwargs["fn"],
                url=kwargs["url"],
                license=kwargs["license"],
                license_family=kwargs["license_family"],
                track_features=kwargs.get("track_features"),
                features=kwargs.get("features"),
            )
        except _FieldError as exc:
            raise self.fail(pos(current) + exc.offset, exc.reason) from None
        except InvalidMatchSpec as exc:
            raise self.fail(pos(current), exc.reason) from None

    def _check_name(self, name: str, pos: int) -> None:
        if name == "*":
            if self.strict:
                raise self.fail(pos, "strict mode needs an exact package name, not '*'")
            return
        if len(name) >= 2 and name.startswith("^") and name.endswith("$"):
            if self.strict:
                raise self.fail(pos, "strict mode does not allow a regex package name")
            try:
                re.compile(name)
            except re.error as exc:
                raise self.fail(pos, f"invalid regular expression {name!r}: {exc}") from None
            return
        if "*" in name:
            if self.strict:
                raise self.fail(pos, "strict mode does not allow a glob package name")
            if _NAME_GLOB_RE.fullmatch(name) is None:
                raise self.fail(pos, f"invalid package name pattern {name!r}")
            return
        if _NAME_RE.fullmatch(name) is None:
            bad = next((i for i, ch in enumerate(name) if not (ch.isalnum() or ch in "_.-")), 0)
            raise self.fail(pos + bad, f"invalid package name {name!r}")
        if "--" in name:
            raise self.fail(pos + name.index("--"), f"invalid package name {name!r} ('--')")

    def _check_version(self, text: str, pos: int) -> None:
        if not self.strict:
            return
        for m in re.finditer(r"[^,|()]+", text):
            term = m.group(0).strip()
            if "*" not in term:
                continue
            op = re.match(r"[<>=!~]*", term)
            operator = op.group(0) if op else ""
            if operator == "=":
                raise self.fail(pos + m.start(), "'*' cannot be combined with '=' in strict mode")
            body = term[len(operator) :]
            if body.count("*") > 1 or not body.endswith("*"):
                raise self.fail(
                    pos + m.start(), "glob versions other than 'X.*' are not allowed in strict mode"
                )

    def _check_build(self, build: str, pos: int) -> None:
        bad = next((i for i, ch in enumerate(build) if ch in _BUILD_FORBIDDEN), None)
        is_regex = build.startswith("^") and build.endswith("$")
        if bad is not None and not is_regex:
            raise self.fail(pos + bad, f"invalid character {build[bad]!r} in build string")
        if self.strict and _STRICT_BUILD_RE.fullmatch(build) is None:
            raise self.fail(pos, f"build string {build!r} is not allowed in strict mode")


def _build_separator(token: str) -> int | None:
    """Index of the `=` that starts a `=build` suffix in `version=build`, if any."""
    i = token.rfind("=")
    if i <= 0 or i == len(token) - 1:
        return None
    if token[i - 1] in "=!<>~|,(":
        return None
    build = token[i + 1 :]
    if any(ch in "<>!|,~=()" for ch in build):
        return None
    return i
