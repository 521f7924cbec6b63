"""The cost of the checkpoint checksum: hashes on the same bytes, then save/load with and
without the check.

Usage: python -m benchmarks.checkpoint_checksum [--mb 200] [--dir /tmp]

Prints seconds (best of three) for CRC-32 (zlib), BLAKE2b, SHA-256 and xxHash (when the
xxhash package is installed) over the data, then gputensor.save and gputensor.load with the
CRC-32 verified and with ``verify=False``, and ``mmap=True`` loads.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import tempfile
import time
import zlib

import numpy as np

import gputensor


def best_of(fn, rounds=3) -> float:
    """The fastest of ``rounds`` runs, in seconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--dir", default=tempfile.gettempdir())
    options = parser.parse_args()
    data = np.random.default_rng(0).standard_normal(options.mb * 2 ** 18).astype(np.float32)
    raw = data.view(np.uint8)
    hashes = {"crc32 (zlib)": lambda: zlib.crc32(raw),
              "blake2b": lambda: hashlib.blake2b(raw, digest_size=16).digest(),
              "sha256": lambda: hashlib.sha256(raw).digest()}
    try:
        xxhash = importlib.import_module("xxhash")
        hashes["xxh3_64"] = lambda: xxhash.xxh3_64(raw).digest()
    except ImportError:
        print("(xxhash is not installed)")
    for name, fn in hashes.items():
        print(f"{name:>28}: {best_of(fn):.3f} s")
    path = os.path.join(options.dir, "checksum_bench.st")
    tensor = gputensor.from_numpy(data)
    try:
        print(f"{'save (writes the crc32)':>28}: "
              f"{best_of(lambda: gputensor.save({'w': tensor}, path)):.3f} s")
        for label, kwargs in (("load, verified", {}), ("load, verify=False", {"verify": False}),
                              ("load mmap, verified", {"mmap": True}),
                              ("load mmap, verify=False", {"mmap": True, "verify": False})):
            print(f"{label:>28}: {best_of(lambda kw=kwargs: gputensor.load(path, **kw)):.3f} s")
    finally:
        os.unlink(path)


if __name__ == "__main__":
    main()
