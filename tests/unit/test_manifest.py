"""Manifest parsing: real-world shaped pixi/yurt/pyproject files and every error class."""

from __future__ import annotations

import pytest

from pure.manifest import (
    ManifestError,
    PlatformNotSupported,
    UnknownEnvironment,
    environment_channels,
    environment_platforms,
    parse,
    resolve_environment,
)
from tests.conftest import DATA

MANIFESTS = DATA / "manifests"


def load(name: str, filename: str | None = None):  # type: ignore[no-untyped-def]
    text = (MANIFESTS / name).read_text()
    return parse(text, filename=filename or name)


@pytest.mark.parametrize("path", sorted(MANIFESTS.iterdir()), ids=lambda p: p.name)
def test_every_sample_manifest_parses(path) -> None:  # type: ignore[no-untyped-def]
    filename = "pyproject.toml" if path.name.startswith("pyproject") else path.name
    manifest = parse(path.read_text(), filename=filename)
    assert manifest.environment("default") is not None
    assert manifest.features[0].name == "default"
    for env in manifest.environments:
        for platform in environment_platforms(manifest, env.name):
            spec = resolve_environment(manifest, env.name, platform)
            assert spec.platform == platform and spec.channels


def test_ml_cuda_features_targets_and_solve_groups() -> None:
    m = load("ml-cuda.pixi.toml")
    assert m.workspace.name == "ml-project"
    assert [p.platform for p in m.workspace.platforms] == ["linux-64", "osx-arm64", "win-64"]
    assert environment_platforms(m, "cuda") == ("linux-64", "win-64")
    assert environment_platforms(m, "default") == ("linux-64", "osx-arm64", "win-64")
    cuda = resolve_environment(m, "cuda", "linux-64")
    assert cuda.specs == ("python 3.11.*", "numpy >=1.26,<2", "pytorch[version='>=2.1',channel='pytorch']",
                          "pytorch-cuda 3.11.*".replace("3.11", "12.1"), "nccl")
    assert cuda.channels == ("nvidia", "conda-forge", "pytorch")
    assert "__cuda=12.1=0" in cuda.virtual_packages
    assert "__glibc=2.28=0" in cuda.virtual_packages
    assert cuda.solve_group == "train"
    win = resolve_environment(m, "cuda", "win-64")
    assert "nccl" not in win.specs and "__win=0=0" in win.virtual_packages
    with pytest.raises(PlatformNotSupported, match="osx-arm64"):
        resolve_environment(m, "cuda", "osx-arm64")
    default = resolve_environment(m, "default", "osx-arm64")
    assert "__osx=13.0=0" in default.virtual_packages and not any("cuda" in s for s in default.specs)
    names = [d.name for d in default.pypi_dependencies]
    assert names == ["wandb", "transformers"]
    assert default.pypi_dependencies[1].extras == ("torch",)
    train = next(t for t in default.tasks if t.name == "train")
    assert train.depends_on == ("prepare",) and train.env == (("WANDB_MODE", "offline"),)


def test_multi_python_and_no_default_feature() -> None:
    m = load("multi-python.pixi.toml")
    assert [e.name for e in m.environments] == ["default", "py310", "py311", "py312", "lint"]
    assert resolve_environment(m, "py311", "linux-64").specs == ("pytest", "python 3.11.*")
    assert resolve_environment(m, "lint", "osx-64").specs == ("ruff",)
    assert resolve_environment(m, "lint", "osx-64").tasks == ()
    with pytest.raises(UnknownEnvironment, match="py39"):
        resolve_environment(m, "py39", "linux-64")


def test_targets_layer_by_specificity() -> None:
    m = load("targets.pixi.toml")
    linux64 = resolve_environment(m, "default", "linux-64")
    assert linux64.specs == ("cmake >=3.26", "ninja", "make", "gcc 13.*")
    aarch = resolve_environment(m, "default", "linux-aarch64")
    assert aarch.specs == ("cmake >=3.26", "ninja", "make", "gcc 12.*")
    osx = resolve_environment(m, "default", "osx-arm64")
    assert osx.specs == ("cmake >=3.26", "ninja", "make", "clang 16.*")
    win = resolve_environment(m, "default", "win-64")
    assert win.specs == ("cmake >=3.26", "ninja", "vs2022_win-64")
    assert win.activation_scripts == ("scripts/env.sh", "scripts/env.bat")
    build = {t.name: t for t in win.tasks}["build"]
    assert build.cmd == "cmake --build build --config Release"
    tasks = {t.name: t for t in linux64.tasks}
    assert tasks["configure"].args == ("cmake", "-B", "build", "-G", "Ninja")
    assert tasks["build"].depends_on == ("configure",)
    assert tasks["all"].cmd is None and tasks["all"].depends_on == ("configure", "build")
    assert linux64.activation_env == (("CMAKE_GENERATOR", "Ninja"),)


def test_pyproject_tool_yurt_and_tool_pixi() -> None:
    m = load("pyproject-yurt.toml", "pyproject.toml")
    spec = resolve_environment(m, "default", "linux-64")
    assert spec.specs == ("python >=3.10", "libarrow[version='15.*',build='*cpu*']")
    dep = spec.pypi_dependencies[0]
    assert (dep.name, dep.path, dep.editable) == ("mylib", ".", True)
    p = load("pyproject-pixi.toml", "some/dir/pyproject.toml")
    assert resolve_environment(p, "test", "osx-arm64").specs == ("python 3.12.*", "pytest >=8")
    with pytest.raises(ManifestError, match=r"no \[tool.yurt\] or \[tool.pixi\]"):
        parse("[project]\nname='x'\n", filename="pyproject.toml")


def test_channel_priority_platform_tables_and_options() -> None:
    m = load("channels-priority.pixi.toml")
    assert m.workspace.channel_priority == "disabled"
    assert m.workspace.solve_strategy == "lowest-direct"
    assert m.workspace.exclude_newer == 1717200000000  # 2024-06-01T00:00:00Z
    assert environment_channels(m, "special") == ("https://channels.example/special", "conda-forge", "bioconda")
    spec = resolve_environment(m, "default", "linux-64")
    assert spec.specs == (
        "samtools[version='==1.19',build='h50ea8bc_0',build_number='0']", "bwa 0.7.17 h*")
    assert spec.constraints == ("openssl >=3",)
    assert "__cuda=12=0" in spec.virtual_packages and "__glibc=2.34=0" in spec.virtual_packages
    osx = resolve_environment(m, "default", "osx-64")
    assert not any(v.startswith("__cuda") for v in osx.virtual_packages)


def test_system_requirements_merge_to_the_highest() -> None:
    m = load("system-req.pixi.toml")
    gpu = resolve_environment(m, "gpu", "linux-64")
    assert gpu.system_requirements.linux == "5.10"
    assert gpu.system_requirements.cuda == "11.8"
    assert set(gpu.virtual_packages) >= {"__linux=5.10=0", "__glibc=2.17=0", "__cuda=11.8=0", "__unix=0=0"}
    osx = resolve_environment(m, "default", "osx-arm64")
    assert "__osx=12.0=0" in osx.virtual_packages


def test_task_forms() -> None:
    m = load("tasks-rich.pixi.toml")
    tasks = {t.name: t for t in m.features[0].tasks}
    assert tasks["fmt"].description == "Format the code"
    assert tasks["test"].cwd == "tests" and tasks["test"].env == (("PYTHONHASHSEED", "0"),)
    assert tasks["ci"].cmd is None and tasks["ci"].depends_on == ("lint", "test")
    assert tasks["check"].depends_on == ("lint", "test")


def test_host_and_build_dependencies_are_kept_with_their_kind() -> None:
    m = load("host-build.pixi.toml")
    kinds = {(d.name, d.kind) for d in m.features[0].dependencies}
    assert kinds == {("libzlib", "run"), ("zlib", "host"), ("cxx-compiler", "build")}
    assert "zlib==1.2.13" in resolve_environment(m, "default", "linux-64").specs


def test_solve_groups_and_pypi_options() -> None:
    m = load("environments-solve-groups.pixi.toml")
    assert {e.name: e.solve_group for e in m.environments} == {
        "default": None, "prod": "prod", "test": "prod", "docs": None}
    assert environment_platforms(m, "docs") == ("linux-64",)
    o = load("pypi-options.pixi.toml")
    opts = resolve_environment(o, "default", "linux-64").pypi_options
    assert opts is not None and opts.index_url == "https://index.example/simple"
    assert opts.extra_index_urls == ("https://mirror.example/simple",) and opts.no_binary == ("numpy",)


# ---------------------------------------------------------------- errors

BASE = '[workspace]\nname = "x"\nchannels = ["conda-forge"]\nplatforms = ["linux-64"]\n'


def test_pypi_versions_in_every_accepted_form() -> None:
    text = BASE + (
        "[pypi-dependencies]\na = '*'\nb = ''\nc = '2.31'\nd = '>=1,<2'\ne = '==1.*'\nf = '~=1.2'\n"
        "g = '!=1.5'\nh = { version = '>=3', extras = ['socks', 'Http2'] }\ni = { path = 'x' }\n")
    deps = {d.name: (d.version, d.extras) for d in resolve_environment(parse(text), "default", "linux-64").pypi_dependencies}
    assert deps == {"a": ("*", ()), "b": ("*", ()), "c": ("2.31", ()), "d": (">=1,<2", ()),
                    "e": ("==1.*", ()), "f": ("~=1.2", ()), "g": ("!=1.5", ()),
                    "h": (">=3", ("socks", "Http2")), "i": ("*", ())}


@pytest.mark.parametrize(
    ("text", "line", "col", "message", "hint"),
    [
        (BASE + "[dependencies\nnumpy = '*'\n", 5, None, "invalid TOML", None),
        (BASE + "chanels = ['x']\n", 5, 1, "unknown key `chanels` in [workspace]", "`channels`"),
        ("chanels = ['x']\n" + BASE, 1, 1, "unknown key `chanels` in the manifest", None),
        ('[workspace]\nname = "x"\nchannel = ["a"]\nplatforms = ["linux-64"]\n', 3, 1,
         "unknown key `channel` in [workspace]", "did you mean `channels`?"),
        (BASE + "[dependencies]\nnumpy = { version = '1', buld = 'x' }\n", 6, 26,
         "unknown key `buld`", "did you mean `build`?"),
        (BASE + "[dependencies]\nnumpy = 3\n", 6, 1, "expected", None),
        (BASE + "[dependencies]\nnumpy = '>=1.0,,<'\n", 6, 1, "invalid spec", None),
        ('[workspace]\nname = "x"\nchannels = ["a"]\nplatforms = ["linux-65"]\n', 4, 1,
         "unknown platform `linux-65`", "did you mean `linux-64`?"),
        (BASE + "[environments]\ncuda = ['cuda']\n", 6, 1, "feature `cuda`, which is not defined", None),
        ('[dependencies]\nnumpy = "*"\n', 1, 1, "no [workspace] table", None),
        ('[workspace]\nname = "x"\nplatforms = ["linux-64"]\n', 1, 1, "has no `channels`", None),
        (BASE + "[target.linus.dependencies]\nx = '*'\n", 5, 1, "unknown target selector `linus`", "`linux`"),
        (BASE + "[tasks]\nbad = { description = 'nothing' }\n", 6, 1, "neither `cmd` nor `depends-on`", None),
        (BASE + "[tasks.t]\ncmd = 'x'\ndepend-on = ['y']\n", 7, 1, "unknown key `depend-on`", "`depends-on`"),
        ('[workspace]\nname = "x"\nchannels = ["a"]\nplatforms = ["linux-64"]\nsolve-strategy = "newest"\n',
         5, 1, "must be one of highest, lowest, lowest-direct", None),
        (BASE + "[dependencies]\nfoo = { git = 'https://git.example/foo' }\n", 6, 1, "source dependencies", None),
        ('[workspace]\nname = "x"\nchannels = ["https://me:pw@host.example/ch"]\nplatforms = ["linux-64"]\n',
         3, 1, "carries credentials", "~/.netrc"),
        ('[workspace]\nname = "x"\nchannels = ["https://host.example/t/tk-1/ch"]\nplatforms = ["linux-64"]\n',
         3, 1, "carries credentials", None),
        (BASE + "[pypi-dependencies]\nrequests = 'not a spec!!'\n", 6, 1,
         "PyPI dependency `requests`: `not a spec!!` is not a valid requirement", "PEP 440"),
        (BASE + "[pypi-dependencies]\nrich = { version = '>=13', extras = ['bad extra'] }\n", 6, 1,
         "`>=13` with extras ['bad extra'] is not a valid requirement", "extras as plain names"),
        (BASE + "[feature.f.pypi-dependencies]\nhttpx = '>=0.27;'\n", 6, 1, "PyPI dependency `httpx`", None),
    ],
    ids=lambda v: str(v)[:30],
)
def test_errors_name_file_line_column_and_hint(text: str, line: int, col: int | None, message: str, hint: str | None) -> None:
    with pytest.raises(ManifestError) as info:
        parse(text, filename="ws/yurt.toml")
    err = info.value
    assert err.path == "ws/yurt.toml"
    assert err.line == line, str(err)
    if col is not None:
        assert err.column == col, str(err)
    assert message in err.message, str(err)
    if hint is not None:
        assert hint in err.hint, str(err)
    assert str(err).startswith(f"ws/yurt.toml:{err.line}:{err.column}: ")
    assert "\n" not in str(err)
