"""Packaging: every package directory is installed, kernels/ only as gputensor.kernels."""

from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _package_dirs():
    """Installed package name -> source folder, for every folder with an __init__.py."""
    found = {}
    for top, name in ((ROOT / "gputensor", "gputensor"), (ROOT / "kernels", "gputensor.kernels")):
        for init in top.rglob("__init__.py"):
            rel = init.parent.relative_to(top).parts
            found[".".join((name, *rel))] = init.parent
    return found


def test_every_package_folder_is_listed_and_kernels_ship_inside_gputensor():
    setuptools = CONFIG["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"gputensor.kernels": "kernels"}
    assert sorted(setuptools["packages"]) == sorted(_package_dirs())
    assert all(p == "gputensor" or p.startswith("gputensor.") for p in setuptools["packages"])


def test_extras_and_the_gpu_marker():
    extras = CONFIG["project"]["optional-dependencies"]
    assert {"cuda12", "cuda13", "test", "examples"} <= set(extras)
    assert CONFIG["project"]["dependencies"] == ["numpy>=1.26", "numba>=0.60",
                                                 "ml_dtypes>=0.5,<0.7", "threadpoolctl>=3.1"]
    markers = CONFIG["tool"]["pytest"]["ini_options"]["markers"]
    assert any(m.startswith("gpu:") for m in markers)


def test_cuda_extras_require_cupy_14():
    # CuPy 13 promotes Python scalars by value, unlike NumPy 2 (and the simulated device)
    for extra, package in (("cuda12", "cupy-cuda12x"), ("cuda13", "cupy-cuda13x")):
        assert f"{package}>=14" in CONFIG["project"]["optional-dependencies"][extra]
