"""How a process that extracts allocates Arrow's memory: jemalloc, which hands freed pages
back to the system within a second.

Arrow's default allocator, its bundled mimalloc, keeps freed pages for reuse in a heap per
thread, and a listing builds its pages on several download threads: a messages partition
run peaked ~28 MiB higher with it (median peak RSS 331 MiB against 303, 8 partitions
in ``bench.messages_memory``'s setting, contenders alternating), for no speed the
benchmarks could tell (100,000 contacts at 25 ms: 1.058 s against 1.066 s, medians of 18
runs). Where Arrow was built without jemalloc, its default stays.

Measured and not taken: a decay of 0 ms (2 MiB lower, 6% slower: freed pages come back
as page faults), Arrow on the C library's malloc (306 MiB, 5% slower), and glibc held to
two arenas (4 MiB lower, 12% slower: the listing's threads queue for the arenas' locks).
"""

from __future__ import annotations

import pyarrow

#: How long jemalloc keeps freed pages before handing them back (Arrow's own default).
DECAY_MS = 1000


def use_lean_arrow_memory() -> None:
    """Switch Arrow to jemalloc (once, before the work: only buffers made afterwards use
    it)."""
    if "jemalloc" in pyarrow.supported_memory_backends():
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
        pyarrow.jemalloc_set_decay_ms(DECAY_MS)
