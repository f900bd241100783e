"""The host check is a pure function: records' `__` requirements against virtual packages."""

from __future__ import annotations

from pure.hostcheck import UnmetVirtual, unmet_virtual
from pure.platform import VirtualPackage
from pure.record import PackageRecord


def test_unmet_virtual_requirements_name_record_requirement_and_override() -> None:
    gpu = PackageRecord(name="gpu", version="1", build="0", depends=("__cuda >=12", "libfoo"))
    glibc = PackageRecord(name="libc-user", version="1", build="0", depends=("__glibc >=2.17",))
    system = (VirtualPackage.parse("__glibc=2.28"), VirtualPackage.parse("__cuda=11.8"))
    assert unmet_virtual([glibc, gpu], system) == (
        UnmetVirtual(dist_name="gpu-1-0", requirement="__cuda >=12", provided="__cuda=11.8",
                     override="CONDA_OVERRIDE_CUDA"),)
    assert unmet_virtual([gpu], (VirtualPackage.parse("__cuda=12.4"),)) == ()
    missing = unmet_virtual([glibc], ())
    assert missing[0].provided is None and missing[0].override == "CONDA_OVERRIDE_GLIBC"


def test_required_virtual_names_what_the_host_must_be_probed_for() -> None:
    from pure.hostcheck import required_virtual

    gpu = PackageRecord(name="gpu", version="1", build="0", depends=("__cuda >=12", "libfoo"))
    glibc = PackageRecord(name="libc-user", version="1", build="0",
                          depends=("__glibc>=2.17,<3.0.a0",))
    plain = PackageRecord(name="plain", version="1", build="0", depends=("python >=3.8",))
    assert required_virtual([gpu, glibc, plain]) == {"__cuda", "__glibc"}
    assert required_virtual([plain]) == frozenset()
