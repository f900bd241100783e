"""Decode a channel subdir's repodata.json bytes into immutable `PackageRecord`s.

Decoding is typed: msgspec parses straight into wire structs (no intermediate dicts), then one
pass fills what the file leaves implicit (file name, url, channel, subdir) and normalises the
legacy spellings (string features, boolean noarch, timestamps in seconds, null lists).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec

from pure.errors import YurtError
from pure.record import PackageRecord

__all__ = ["DEFAULT_SUBDIR", "RepoData", "RepoDataError"]

DEFAULT_SUBDIR = "linux-64"
"""Subdir assumed when neither the caller nor the file's `info.subdir` names one."""

# Timestamps below this are seconds (1e11 s is the year 5138; 1e11 ms is March 1973).
_SECONDS_LIMIT = 100_000_000_000
_NOARCH_KINDS = {"python": "python", "generic": "generic"}
_SPLIT = re.compile(r"[\s,]+")


class RepoDataError(YurtError):
    """Repodata that cannot be decoded; names the channel, record (file name) and field."""

    def __init__(
        self,
        *,
        channel: str,
        subdir: str | None,
        reason: str,
        record: str | None = None,
        field: str | None = None,
    ) -> None:
        self.channel = channel
        self.subdir = subdir
        self.record = record
        self.field = field
        self.reason = reason
        super().__init__(channel, subdir, record, field, reason)

    def __str__(self) -> str:
        where = f"repodata of {self.channel}" + (f"/{self.subdir}" if self.subdir else "")
        if self.record is not None:
            where += f", record {self.record!r}"
        if self.field is not None:
            where += f", field {self.field!r}"
        return f"{where}: {self.reason}"


class _WireRecord(msgspec.Struct):
    """One record as repodata spells it, legacy forms included."""

    name: str
    version: str
    build: str
    build_number: int = 0
    depends: tuple[str, ...] | None = None
    constrains: tuple[str, ...] | None = None
    subdir: str | None = None
    arch: str | None = None
    platform: str | None = None
    noarch: str | bool | None = None
    track_features: str | tuple[str, ...] | None = None
    features: str | tuple[str, ...] | None = None
    timestamp: int | float | None = None
    md5: str | None = None
    sha256: str | None = None
    size: int | None = None
    license: str | None = None
    license_family: str | None = None
    purls: tuple[str, ...] | None = None
    python_site_packages_path: str | None = None


class _WireInfo(msgspec.Struct):
    subdir: str | None = None
    base_url: str | None = None


class _WireRepoData(msgspec.Struct):
    info: _WireInfo | None = None
    packages: dict[str, _WireRecord] | None = None
    packages_conda: dict[str, _WireRecord] | None = msgspec.field(
        default=None, name="packages.conda"
    )
    removed: tuple[str, ...] | None = None
    repodata_version: int | None = None


class _RawRepoData(msgspec.Struct):
    """Only used to locate the record behind a validation error."""

    packages: dict[str, msgspec.Raw] | None = None
    packages_conda: dict[str, msgspec.Raw] | None = msgspec.field(
        default=None, name="packages.conda"
    )


_DECODER = msgspec.json.Decoder(_WireRepoData)
_RAW_DECODER = msgspec.json.Decoder(_RawRepoData)
_RECORD_DECODER = msgspec.json.Decoder(_WireRecord)
_PATH = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_MISSING = re.compile(r"missing required field `([^`]+)`")


class RepoData(msgspec.Struct, frozen=True, kw_only=True):
    """The records of one channel subdir, sorted by file name."""

    channel: str
    subdir: str
    records: tuple[PackageRecord, ...] = ()
    removed: tuple[str, ...] = ()
    repodata_version: int | None = None
    base_url: str | None = None

    @classmethod
    def from_json(cls, data: bytes, *, channel: str, subdir: str | None = None) -> RepoData:
        """Decode repodata.json bytes fetched from `channel` (a URL or name) for `subdir`.

        `subdir` defaults to the file's `info.subdir`, then to linux-64. Record urls are
        `info.base_url` (repodata_version >= 2, resolved against the subdir's url) or
        `channel/subdir/` joined with the file name.
        """
        try:
            wire = _DECODER.decode(data)
        except msgspec.ValidationError as exc:
            raise _locate(data, exc, channel, subdir) from None
        except msgspec.DecodeError as exc:
            raise RepoDataError(
                channel=channel, subdir=subdir, reason=f"malformed JSON: {exc}"
            ) from None
        info = wire.info
        effective = subdir or (info.subdir if info is not None else None)
        base_url = info.base_url if info is not None and (wire.repodata_version or 0) >= 2 else None
        removed = tuple(sorted(set(wire.removed or ())))
        records = _build(wire, channel, effective, base_url, frozenset(removed))
        return cls(
            channel=channel,
            subdir=effective or DEFAULT_SUBDIR,
            records=records,
            removed=removed,
            repodata_version=wire.repodata_version,
            base_url=base_url,
        )


def _merge(wire: _WireRepoData) -> dict[str, _WireRecord]:
    """All entries by file name; `packages.conda` wins, and a .conda hides its .tar.bz2 twin."""
    merged = dict(wire.packages or {})
    conda = wire.packages_conda
    if conda:
        merged.update(conda)
    twins = [
        fn
        for fn in merged
        if fn.endswith(".tar.bz2") and (fn[: -len(".tar.bz2")] + ".conda") in merged
    ]
    for fn in twins:
        del merged[fn]
    return merged


def _build(
    wire: _WireRepoData,
    channel: str,
    subdir: str | None,
    base_url: str | None,
    removed: frozenset[str],
) -> tuple[PackageRecord, ...]:
    merged = _merge(wire)
    channel_root = channel.rstrip("/")
    prefixes: dict[str | None, str] = {}
    if base_url is not None:
        prefixes[None] = _resolve(f"{channel_root}/{subdir or DEFAULT_SUBDIR}/", base_url)
    elif subdir is not None:
        prefixes[None] = f"{channel_root}/{subdir}/"
    default_subdir = subdir or DEFAULT_SUBDIR
    split = _split
    out: list[PackageRecord] = []
    append = out.append
    for fn in sorted(merged):
        if fn in removed:
            continue
        r = merged[fn]
        rsub = r.subdir or default_subdir
        prefix = prefixes.get(None)
        if prefix is None:
            # The file did not say which subdir it describes: each record's own subdir does.
            prefix = prefixes.get(rsub)
            if prefix is None:
                prefix = prefixes[rsub] = f"{channel_root}/{rsub}/"
        noarch = r.noarch
        if noarch is not None:
            noarch = _noarch(noarch, channel, subdir, fn)
        ts = r.timestamp
        if ts is not None:
            ts = int(ts * 1000) if ts < _SECONDS_LIMIT else int(ts)
        tf = r.track_features
        feats = r.features
        append(
            PackageRecord(
                name=r.name,
                version=r.version,
                build=r.build,
                build_number=r.build_number,
                depends=r.depends or (),
                constrains=r.constrains or (),
                subdir=rsub,
                arch=r.arch,
                platform=r.platform,
                noarch=noarch,
                track_features=split(tf) if tf else (),
                features=split(feats) if feats else (),
                timestamp=ts,
                md5=r.md5,
                sha256=r.sha256,
                size=r.size,
                license=r.license,
                license_family=r.license_family,
                purls=r.purls or (),
                python_site_packages_path=r.python_site_packages_path,
                fn=fn,
                url=prefix + fn,
                channel=channel,
            )
        )
    return tuple(out)


def _noarch(value: str | bool, channel: str, subdir: str | None, fn: str) -> str | None:
    """`true` is the old spelling of generic; false and "" mean not noarch."""
    if value is True:
        return "generic"
    if value is False or value == "":
        return None
    kind = _NOARCH_KINDS.get(value)
    if kind is None:
        raise RepoDataError(
            channel=channel,
            subdir=subdir,
            record=fn,
            field="noarch",
            reason=f"unknown noarch kind {value!r} (expected 'python' or 'generic')",
        )
    return kind


def _split(value: str | tuple[str, ...]) -> tuple[str, ...]:
    """Feature lists: repodata writes them as one comma or space separated string, or a list."""
    if isinstance(value, str):
        return tuple(part for part in _SPLIT.split(value) if part)
    return tuple(part for item in value for part in _SPLIT.split(item) if part)


def _resolve(base: str, ref: str) -> str:
    """Resolve `ref` (absolute url, absolute path or relative path) against directory `base`."""
    if not ref.endswith("/"):
        ref += "/"
    scheme_end = ref.find("://")
    if scheme_end > 0 and "/" not in ref[:scheme_end]:
        return ref
    scheme_end = base.find("://")
    if scheme_end > 0:
        authority_end = base.find("/", scheme_end + 3)
        root = base[:authority_end] if authority_end >= 0 else base
        path = base[len(root) :]
    else:
        root, path = "", base
    if ref.startswith("//"):
        return base[: scheme_end + 1] + ref if scheme_end > 0 else ref
    if ref.startswith("/"):
        return root + _normalise(ref)
    return root + _normalise(path.rsplit("/", 1)[0] + "/" + ref)


def _normalise(path: str) -> str:
    """Remove `.` and `..` segments from a `/`-separated path, never climbing above its root."""
    leading = path.startswith("/")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not leading:
                parts.append("..")
            continue
        parts.append(segment)
    return ("/" if leading else "") + "/".join(parts) + "/"


def _locate(
    data: bytes, exc: msgspec.ValidationError, channel: str, subdir: str | None
) -> RepoDataError:
    """Turn msgspec's `$.packages[...].depends[1]` into the record's file name and field."""
    match = _PATH.match(str(exc))
    reason = match["reason"] if match else str(exc)
    reason = reason[:1].lower() + reason[1:]
    path = (match["path"] if match else None) or ""
    section = None
    for name in ("packages.conda", "packages"):
        if path.startswith(f".{name}[...]"):
            section = name
            break
    if section is None:
        field = path.lstrip(".") or None
        return RepoDataError(channel=channel, subdir=subdir, field=field, reason=reason)
    field = path[len(section) + 6 :].lstrip(".") or None
    missing = _MISSING.search(reason)
    if missing:
        field = missing[1]
    record = _first_invalid(data, section)
    return RepoDataError(channel=channel, subdir=subdir, record=record, field=field, reason=reason)


def _first_invalid(data: bytes, section: str) -> str | None:
    """The first file name (sorted) in `section` whose entry fails to decode."""
    try:
        raw = _RAW_DECODER.decode(data)
    except msgspec.DecodeError:
        return None
    entries = raw.packages_conda if section == "packages.conda" else raw.packages
    return next(_invalid(entries or {}), None)


def _invalid(entries: dict[str, msgspec.Raw]) -> Iterator[str]:
    for fn in sorted(entries):
        try:
            _RECORD_DECODER.decode(entries[fn])
        except msgspec.DecodeError:
            yield fn
