"""Keep freed memory from staying resident while a large pair is fused (glibc's ``malloc``).

glibc serves an allocation below its *mmap threshold* from heaps it keeps, and above it with a
mapping of its own that is unmapped when freed. The threshold is dynamic: each time a mapped block
is freed, it rises to that block's size, up to 32 MiB. Fusing a large pair allocates and frees
cubes of a few MiB to a few hundred MiB, tile after tile; once the threshold has risen, the blocks
of a few MiB to 32 MiB land in the heaps, which fragment and are not given back, and the process
keeps hundreds of MiB it no longer uses. Fixing the threshold turns that adaptation off.

Measured (``/work/team/s19/tile_mem.py``, a study: ``fuse_pair`` with ``lite-oli4``'s network alone
on ``benchmarks/bench_large.py``'s 768 x 768 x 200 pair, resident memory sampled every 2 ms): peak
2236 MiB with glibc's default, 1577 MiB with the threshold fixed at 4 MiB; the resident memory at
the start of the central tile 1310 -> 927 MiB. It costs time, since every block of 4 MiB or more is
then mapped and zeroed anew: HySime-Wiener-Hybrid on that pair took 15.2 and 15.5 s against 12.3 and
13.7 s with the default (runs alternated on a quiet machine). Giving the freed memory back after
each written tile instead (glibc's ``malloc_trim``, the threshold left to adapt) keeps most of the
speed and less of the saving: ``fuse_pair`` with ``lite-oli4`` and its partner on the 768 px pair
took 332.5 s and peaked at 1560 MiB, against 367.5 s and 1419 MiB with the threshold fixed
(one run each, one thread, a study script not kept); the threshold stays fixed.
"""

from __future__ import annotations

import ctypes
import sys

#: glibc's ``mallopt`` parameter number of the mmap threshold (``M_MMAP_THRESHOLD`` in malloc.h).
M_MMAP_THRESHOLD = -3

#: Blocks at least this large are mapped on their own and unmapped when freed.
MMAP_THRESHOLD_BYTES = 4 * 2**20


def fix_mmap_threshold(nbytes: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Fix glibc's mmap threshold at ``nbytes`` for this process, once and for all.

    Parameters
    ----------
    nbytes : int
        Allocations of at least this many bytes are mapped on their own (glibc caps it at 32 MiB
        on 64-bit systems).

    Returns
    -------
    bool
        True when the allocator accepted it; False where there is no glibc ``mallopt``
        (macOS, Windows) or it refused: nothing is changed then.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, int(nbytes)) == 1
