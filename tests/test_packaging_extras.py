"""Packaging: CUDA extras that stay on one CUDA major version, the licence and metadata, an
sdist that carries its tests' helpers, and a source checkout that imports without an install."""

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.version import Version

import gputensor

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _requirements(extra):
    return {r.name: r for r in map(Requirement, EXTRAS[extra])}


@pytest.mark.parametrize("extra, major", [("cuda12", 12), ("cuda13", 13)])
def test_each_cuda_extra_stays_on_its_cuda_major_version(extra, major):
    reqs = _requirements(extra)
    assert set(reqs) == {f"cupy-cuda{major}x", "numba-cuda", "cuda-bindings",
                         f"nvidia-nccl-cu{major}"}
    assert reqs["numba-cuda"].extras == {f"cu{major}"}  # numba-cuda's NVVM/NVRTC of that major
    bindings = reqs["cuda-bindings"].specifier
    assert bindings.contains(f"{major}.9.1") and not bindings.contains(f"{major + 1}.0.0")
    assert not bindings.contains(f"{major - 1}.9.9")
    assert reqs[f"cupy-cuda{major}x"].specifier.contains("14.0.0")


@pytest.mark.parametrize("extra, major", [("cuda12", 12), ("cuda13", 13)])
def test_the_cuda_extras_agree_with_numba_cudas_own_extras(extra, major):
    try:
        declared = importlib.metadata.requires("numba-cuda") or []
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("numba-cuda is not installed here: its own extras cannot be read")
    theirs = [Requirement(r) for r in declared]
    pinned = [r for r in theirs if r.name == "cuda-bindings" and r.marker is not None
              and r.marker.evaluate({"extra": f"cu{major}"})]
    assert pinned, f"numba-cuda has no cu{major} extra pinning cuda-bindings"
    ours = _requirements(extra)["cuda-bindings"].specifier
    probe = [Version(f"{major}.{minor}.{patch}") for minor in range(10) for patch in range(12)]
    assert any(v in ours and all(v in r.specifier for r in pinned) for v in probe)


def test_onnx_is_an_optional_extra_and_the_ci_installs_it():
    assert [Requirement(r).name for r in EXTRAS["onnx"]] == ["onnx"]
    assert "onnx" not in {Requirement(r).name for r in PROJECT["dependencies"]}
    ci = (ROOT / ".ci" / "run").read_text()
    install = re.search(r'pip install -q -e "\.\[([a-z,]+)\]"', ci)
    assert install and "onnx" in install.group(1).split(",")
    assert ci.index("torch==2.13.0") < install.start()


def test_licence_and_metadata():
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    classifiers = PROJECT["classifiers"]
    assert not [c for c in classifiers if c.startswith("License ::")]  # SPDX license instead
    assert "Programming Language :: Python :: 3" in classifiers


def test_set_num_threads_governs_blas_and_numba():
    threadpoolctl = importlib.import_module("threadpoolctl")
    numba = importlib.import_module("numba")
    saved = gputensor.get_num_threads()
    try:
        gputensor.set_num_threads(1)
        assert numba.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info()
                   if pool["user_api"] == "blas")
    finally:
        gputensor.set_num_threads(saved)


def _checkout_copy(tmp_path):
    """The repository's files as a fresh clone has them (no build outputs, no links)."""
    ignore = shutil.ignore_patterns(".git", "venv", "__pycache__", "*.egg-info", ".ruff_cache",
                                    ".pytest_cache", "runs")

    def skip(directory, names):
        skipped = set(ignore(directory, names))
        return skipped | {n for n in names if os.path.islink(os.path.join(directory, n))}

    copy = tmp_path / "checkout"
    shutil.copytree(ROOT, copy, ignore=skip)
    return copy


def _python(code, cwd):
    env = dict(os.environ, PYTHONPATH=str(cwd))
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_a_source_checkout_imports_without_an_install_and_its_sdist_has_the_test_helpers(
        tmp_path):
    copy = _checkout_copy(tmp_path)
    assert not (copy / "gputensor" / "kernels").exists()
    run = _python("import gputensor, gputensor.kernels.rules as r; print(r.__file__)", copy)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()) == copy / "kernels" / "rules.py"

    sdist = _python("from setuptools import build_meta; print(build_meta.build_sdist('dist'))",
                    copy)
    assert sdist.returncode == 0, sdist.stderr
    with tarfile.open(copy / "dist" / sdist.stdout.strip().splitlines()[-1]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    tests = {str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts}
    assert tests - names == set()
    assert {"LICENSE", "README.md", "pyproject.toml", "kernels/rules.py",
            "gputensor/onnx/__init__.py", "gputensor/_tensor.pyi"} <= names
    assert not [n for n in names if "__pycache__" in n or n.startswith("gputensor/kernels")]

    shutil.rmtree(copy / "kernels")
    broken = _python("import gputensor", copy)
    assert "pip install -e ." in broken.stderr and "ImportError" in broken.stderr
