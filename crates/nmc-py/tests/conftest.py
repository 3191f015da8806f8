"""Shared fixtures of the nmc Python tests.

The tests compare the Python API with the ``nmc`` command, so they need the
CLI binary: ``$NMC_BIN``, else ``<repo>/target/release/nmc`` (built by
``cargo build --release -p nmc``). They also read the third-party NIR graphs
in ``$NMC_SHARED_FIXTURES`` (default ``<repo>/../shared/fixtures``), as the
Rust tests do. A missing binary or fixture folder fails the run, saying where
it looked: these tests must not pass by skipping.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "mnist_conv"
MODEL = EXAMPLE / "mnist_conv.nir"


def _nmc_bin() -> Path:
    p = Path(os.environ.get("NMC_BIN", REPO / "target" / "release" / "nmc"))
    if not p.is_file():
        pytest.fail(f"the nmc CLI is not at {p}: run `cargo build --release -p nmc` or set NMC_BIN", pytrace=False)
    return p


def _shared_fixtures() -> Path:
    d = Path(os.environ.get("NMC_SHARED_FIXTURES", REPO.parent / "shared" / "fixtures"))
    if not (d / "nir-paper").is_dir():
        pytest.fail(f"shared NIR fixtures not found at {d / 'nir-paper'}: set NMC_SHARED_FIXTURES", pytrace=False)
    return d


class Cli:
    """Runs the nmc command and returns its result."""

    def __init__(self, exe: Path):
        self.exe = exe

    def run(self, *args, check: bool = True) -> subprocess.CompletedProcess:
        r = subprocess.run([str(self.exe), *map(str, args)], capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"nmc {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr}")
        return r

    def json(self, *args) -> dict:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli(_nmc_bin())


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    return _shared_fixtures()


@pytest.fixture(scope="session")
def digits():
    """Eight held-out MNIST digits of the bundled example and their labels."""
    x = np.load(EXAMPLE / "test_images.npy")[:8]
    y = np.load(EXAMPLE / "test_labels.npy")[:8]
    return x, y


@pytest.fixture(scope="session")
def digits_files(tmp_path_factory, digits):
    """The same digits as .npy files for the CLI."""
    d = tmp_path_factory.mktemp("digits")
    x, y = digits
    np.save(d / "x.npy", x)
    np.save(d / "y.npy", y)
    return d / "x.npy", d / "y.npy"
