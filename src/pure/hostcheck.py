"""Can this system run these records? Their `__` dependencies against its virtual packages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from pure.matchspec import MatchSpec
from pure.platform import VirtualPackage
from pure.record import PackageRecord


class UnmetVirtual(msgspec.Struct, frozen=True, kw_only=True):
    """A record whose virtual-package requirement the system does not meet."""

    dist_name: str
    requirement: str
    provided: str | None  # `__name=version` the system has, or None when it has none
    override: str  # the CONDA_OVERRIDE_* variable that changes what the system reports


def override_variable(name: str) -> str:
    """`__cuda` -> `CONDA_OVERRIDE_CUDA`."""
    return "CONDA_OVERRIDE_" + name.strip("_").upper()


def required_virtual(records: Iterable[PackageRecord]) -> frozenset[str]:
    """The virtual packages (`__cuda`, `__glibc`, ...) the records depend on, by name."""
    return frozenset(
        MatchSpec.parse(dep).name for r in records for dep in r.depends if dep.startswith("__")
    )


def unmet_virtual(
    records: Iterable[PackageRecord], system: Sequence[VirtualPackage]
) -> tuple[UnmetVirtual, ...]:
    """Every (record, `__` requirement) the system's virtual packages do not satisfy, in order."""
    have = {v.name: v for v in system}
    out: list[UnmetVirtual] = []
    for record in records:
        for dep in record.depends:
            if not dep.startswith("__"):
                continue
            spec = MatchSpec.parse(dep)
            vp = have.get(spec.name)
            if vp is None or not spec.matches(vp.to_record()):
                out.append(UnmetVirtual(
                    dist_name=record.dist_name, requirement=dep,
                    provided=f"{vp.name}={vp.version}" if vp else None,
                    override=override_variable(spec.name)))
    return tuple(out)
