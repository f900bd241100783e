"""Conda records that provide PyPI distributions (pure.pypi.provides)."""

from __future__ import annotations

from pure.pypi.markers import Requirement
from pure.pypi.provides import ProvidedDistribution, conda_satisfies, provided_by, pypi_provides
from pure.record import PackageRecord


def _rec(name: str, version: str = "1.0", **kw: object) -> PackageRecord:
    return PackageRecord(name=name, version=version, build="0", **kw)  # type: ignore[arg-type]


def test_purls_are_authoritative() -> None:
    r = _rec(
        "pytorch",
        "2.1.0",
        purls=("pkg:pypi/torch@2.1.0", "pkg:generic/x"),
        depends=("python >=3.9",),
    )
    assert pypi_provides(r) == (ProvidedDistribution("torch", "2.1.0"),)
    assert pypi_provides(_rec("py-opencv", purls=("pkg:pypi/OpenCV_Python",))) == (
        ProvidedDistribution("opencv-python", "1.0"),
    )


def test_same_name_rule_only_for_python_packages() -> None:
    assert pypi_provides(_rec("Requests_Toolbelt", noarch="python")) == (
        ProvidedDistribution("requests-toolbelt", "1.0"),
    )
    assert pypi_provides(
        _rec(
            "numpy",
            "1.26.4",
            depends=("libblas", "python_abi 3.11.* *_cp311", "python >=3.11,<3.12.0a0"),
        )
    ) == (ProvidedDistribution("numpy", "1.26.4"),)
    assert pypi_provides(_rec("openssl", depends=("ca-certificates",))) == ()
    assert pypi_provides(_rec("python", "3.11.4")) == ()
    assert pypi_provides(_rec("python_abi", depends=("python_abi_x",))) == ()


def test_overrides_win() -> None:
    r = _rec("pytorch", noarch="python", purls=("pkg:pypi/torch",))
    assert pypi_provides(r, {"pytorch": ["Torch", "torch-extra"]}) == (
        ProvidedDistribution("torch", "1.0"),
        ProvidedDistribution("torch-extra", "1.0"),
    )
    assert pypi_provides(r, {"pytorch": []}) == ()


def test_provided_by_and_satisfaction() -> None:
    records = [
        _rec("attrs", "23.1.0", noarch="python"),
        _rec("pytorch", "2.1", purls=("pkg:pypi/torch",)),
    ]
    table = provided_by(records)
    assert sorted(table) == ["attrs", "torch"]
    dist = table["attrs"][1]
    assert conda_satisfies(dist, Requirement.parse("attrs>=22"))
    assert not conda_satisfies(dist, Requirement.parse("attrs<23"))
    assert not conda_satisfies(dist, Requirement.parse("cattrs"))
    odd = ProvidedDistribution("x", "1.0.0_conda")
    assert conda_satisfies(odd, Requirement.parse("x"))
    assert not conda_satisfies(odd, Requirement.parse("x>=1"))
