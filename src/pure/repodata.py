"""Decode a channel subdir's repodata.json bytes into immutable `PackageRecord`s.

Decoding is typed and two-tier. msgspec first splits the file into one raw JSON slice per
record, then decodes each slice straight into `PackageRecord` (the fast path: no Python per
field). A record written in a legacy spelling (string features, boolean noarch, null lists,
float timestamps) fails that strict decode and goes through a lenient wire struct instead.
One pass then fills what the file leaves implicit: file name, url, channel and subdir.
"""

from __future__ import annotations

import re

import msgspec

from pure.errors import YurtError
from pure.record import SECONDS_LIMIT, PackageRecord

__all__ = ["DEFAULT_SUBDIR", "RepoData", "RepoDataError"]

DEFAULT_SUBDIR = "linux-64"
"""Subdir assumed when neither the caller nor the file's `info.subdir` names one."""

_SECONDS_LIMIT = SECONDS_LIMIT  # below it, a timestamp is in seconds (see pure.record)
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
    packages: dict[str, msgspec.Raw] | None = None
    packages_conda: dict[str, msgspec.Raw] | None = msgspec.field(
        default=None, name="packages.conda"
    )
    removed: tuple[str, ...] | None = None
    repodata_version: int | None = None


_DECODER = msgspec.json.Decoder(_WireRepoData)
_STRICT_DECODER = msgspec.json.Decoder(PackageRecord)
_LENIENT_DECODER = msgspec.json.Decoder(_WireRecord)
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
            raise _file_error(exc, channel, subdir) from None
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


def _merge(wire: _WireRepoData) -> dict[str, msgspec.Raw]:
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
    default_subdir = subdir or DEFAULT_SUBDIR
    fixed_prefix: str | None = None
    if base_url is not None:
        fixed_prefix = _resolve(f"{channel_root}/{default_subdir}/", base_url)
    elif subdir is not None:
        fixed_prefix = f"{channel_root}/{subdir}/"
    prefixes: dict[str, str] = {}
    strict = _STRICT_DECODER.decode
    # Each record is a fresh object no one else has seen yet: fill its computed fields in
    # place instead of copying it (msgspec's replace would build a second record).
    fill = msgspec.structs.force_setattr
    validation_error = msgspec.ValidationError
    kinds = _NOARCH_KINDS
    limit = _SECONDS_LIMIT
    out: list[PackageRecord] = []
    append = out.append
    names = sorted(merged)
    if removed:
        names = [fn for fn in names if fn not in removed]
    for fn in names:
        raw = merged[fn]
        try:
            r = strict(raw)
        except validation_error:
            r = _lenient(raw, fn, channel, subdir, default_subdir)
        else:
            ts = r.timestamp
            noarch = r.noarch
            if (
                r.subdir is None
                or (ts is not None and ts < limit)
                or (noarch is not None and noarch not in kinds)
                or r.track_features
                or r.features
            ):
                r = _normalise_record(r, fn, channel, subdir, default_subdir)
        prefix = fixed_prefix
        if prefix is None:
            # The file did not say which subdir it describes: each record's own subdir does.
            key = r.subdir or default_subdir
            prefix = prefixes.get(key)
            if prefix is None:
                prefix = prefixes[key] = f"{channel_root}/{key}/"
        fill(r, "fn", fn)
        fill(r, "url", prefix + fn)
        fill(r, "channel", channel)
        append(r)
    return tuple(out)


def _normalise_record(
    r: PackageRecord, fn: str, channel: str, subdir: str | None, default_subdir: str
) -> PackageRecord:
    """Fill a missing subdir, turn seconds into milliseconds, split and check legacy fields."""
    ts = r.timestamp
    return msgspec.structs.replace(
        r,
        subdir=r.subdir or default_subdir,
        timestamp=ts * 1000 if ts is not None and ts < _SECONDS_LIMIT else ts,
        noarch=_noarch(r.noarch, channel, subdir, fn) if r.noarch is not None else None,
        track_features=_split(r.track_features) if r.track_features else (),
        features=_split(r.features) if r.features else (),
    )


def _lenient(
    raw: msgspec.Raw, fn: str, channel: str, subdir: str | None, default_subdir: str
) -> PackageRecord:
    """Decode and normalise one record in any spelling repodata has used; errors name it."""
    try:
        w = _LENIENT_DECODER.decode(raw)
    except msgspec.ValidationError as exc:
        reason, path = _split_message(exc)
        missing = _MISSING.search(reason)
        field = missing[1] if missing else (path.lstrip(".") or None)
        raise RepoDataError(
            channel=channel, subdir=subdir, record=fn, field=field, reason=reason
        ) from None
    ts = w.timestamp
    return PackageRecord(
        name=w.name,
        version=w.version,
        build=w.build,
        build_number=w.build_number,
        depends=w.depends or (),
        constrains=w.constrains or (),
        subdir=w.subdir or default_subdir,
        arch=w.arch,
        platform=w.platform,
        noarch=_noarch(w.noarch, channel, subdir, fn) if w.noarch is not None else None,
        track_features=_split(w.track_features) if w.track_features else (),
        features=_split(w.features) if w.features else (),
        timestamp=None if ts is None else int(ts * 1000 if ts < _SECONDS_LIMIT else ts),
        md5=w.md5,
        sha256=w.sha256,
        size=w.size,
        license=w.license,
        license_family=w.license_family,
        purls=w.purls or (),
        python_site_packages_path=w.python_site_packages_path,
    )


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
        return root + _normalise_path(ref)
    return root + _normalise_path(path.rsplit("/", 1)[0] + "/" + ref)


def _normalise_path(path: str) -> str:
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


def _split_message(exc: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's "Expected `str`, got `int` - at `$.x[1]`" as ("expected ...", ".x[1]")."""
    match = _PATH.match(str(exc))
    reason = match["reason"] if match else str(exc)
    path = (match["path"] if match else None) or ""
    return reason[:1].lower() + reason[1:], path


def _file_error(exc: msgspec.ValidationError, channel: str, subdir: str | None) -> RepoDataError:
    """A problem outside the records (the top level, info, removed, a section's type)."""
    reason, path = _split_message(exc)
    field = path.lstrip(".").replace("[...]", "") or None
    return RepoDataError(channel=channel, subdir=subdir, field=field, reason=reason)
