"""glibc's mmap threshold, fixed by fuse so that a large pair's freed cubes leave the process."""

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from s3rnet.allocator import MMAP_THRESHOLD_BYTES, fix_mmap_threshold

ROOT = Path(__file__).resolve().parents[1]

# What a fusion does tile after tile, in little: one block freed above the default threshold
# (glibc then raises the threshold to its size), then blocks under it allocated and all but the
# last freed. Printed: the resident MiB the process keeps after that, beyond where it started.
PATTERN = """
import sys
import numpy as np
from s3rnet.allocator import fix_mmap_threshold

def resident_mib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

if sys.argv[1] == "fixed":
    assert fix_mmap_threshold()
start = resident_mib()
large = np.ones(30 * 2**20 // 8)
del large
blocks = [np.ones(16 * 2**20 // 8) for _ in range(20)]
last = blocks[-1]
del blocks
print(resident_mib() - start)
"""

glibc = pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                           reason="glibc's allocator only")


def retained_mib(mode: str) -> float:
    run = subprocess.run([sys.executable, "-c", PATTERN, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(run.stdout.strip())


@glibc
def test_fixed_threshold_gives_freed_blocks_back():
    # 20 blocks of 16 MiB were allocated and 19 freed: glibc's default keeps most of them resident.
    assert retained_mib("default") > 128
    assert retained_mib("fixed") < 48


@glibc
def test_fix_is_accepted():
    assert fix_mmap_threshold() is True
    assert fix_mmap_threshold(MMAP_THRESHOLD_BYTES) is True


def test_fix_is_refused_quietly_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert fix_mmap_threshold() is False
