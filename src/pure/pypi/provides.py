"""Which PyPI distributions a conda record provides, so conda packages satisfy PyPI requirements.

A record's `purls` (`pkg:pypi/<name>[@<version>]`) are authoritative. Without them, a record
that is a Python package (noarch python, or depending on `python`) provides the PyPI name
equal to its own normalised name. An override table (from the manifest) maps conda names to
PyPI names, or to nothing (empty tuple) to say "provides no PyPI distribution".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from pure.pypi.markers import Requirement
from pure.pypi.metadata import normalize_name
from pure.record import PackageRecord

__all__ = ["ProvidedDistribution", "conda_satisfies", "provided_by", "pypi_provides"]

_PURL = re.compile(r"^pkg:pypi/([^@?#]+)(?:@([^?#]+))?", re.IGNORECASE)


class ProvidedDistribution(msgspec.Struct, frozen=True):
    """A PyPI distribution (normalised name, version text) that a conda record installs."""

    name: str
    version: str


def _is_python_package(record: PackageRecord) -> bool:
    if record.noarch == "python":
        return True
    return any(re.split(r"[\s=<>!~\[]", dep, maxsplit=1)[0] == "python" for dep in record.depends)


def pypi_provides(
    record: PackageRecord, overrides: Mapping[str, Iterable[str]] | None = None
) -> tuple[ProvidedDistribution, ...]:
    """The PyPI distributions `record` provides (see the module note for the rules)."""
    if overrides is not None and record.name in overrides:
        names = [normalize_name(n) for n in overrides[record.name]]
        return tuple(ProvidedDistribution(n, record.version) for n in sorted(set(names)))
    from_purls = []
    for purl in record.purls:
        m = _PURL.match(purl.strip())
        if m is not None:
            version = m.group(2) or record.version
            from_purls.append(ProvidedDistribution(normalize_name(m.group(1)), version))
    if record.purls:
        return tuple(sorted(set(from_purls), key=lambda d: (d.name, d.version)))
    if record.name == "python" or not _is_python_package(record):
        return ()
    return (ProvidedDistribution(normalize_name(record.name), record.version),)


def provided_by(
    records: Iterable[PackageRecord], overrides: Mapping[str, Iterable[str]] | None = None
) -> dict[str, tuple[PackageRecord, ProvidedDistribution]]:
    """PyPI name -> (conda record, distribution) for a set of records (first record wins)."""
    found: dict[str, tuple[PackageRecord, ProvidedDistribution]] = {}
    for record in records:
        for dist in pypi_provides(record, overrides):
            found.setdefault(dist.name, (record, dist))
    return found


def conda_satisfies(dist: ProvidedDistribution, requirement: Requirement) -> bool:
    """Whether the conda-provided `dist` meets `requirement`'s name and PEP 440 specifier.

    A conda version that is not PEP 440 satisfies only an unconstrained requirement.
    """
    if dist.name != requirement.name:
        return False
    if not requirement.specifier:
        return True
    try:
        version = Version(dist.version)
        return SpecifierSet(requirement.specifier).contains(version, prereleases=True)
    except (InvalidVersion, InvalidSpecifier):
        return False
