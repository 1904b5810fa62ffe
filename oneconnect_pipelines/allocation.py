"""How a process that extracts allocates Arrow's memory: jemalloc, handing freed pages back
to the system at once.

Arrow's default allocator (its bundled mimalloc) keeps freed pages for reuse, per thread;
a listing builds its pages on several download threads, so a messages partition run held
~30 MiB more at its peak than it used (median peak RSS 330 MiB with the default against
303 with this; ``python -m bench --only messages_memory``), for about 4% more CPU on a
listing at 0 ms latency. Where Arrow was built without jemalloc, its default stays.
Measured and not taken: Arrow on the C library's malloc (306 MiB, +5% CPU) and glibc
limited to two arenas (4 MiB less, but +12% CPU on the listing: its threads then queue
for the arenas' locks).
"""

from __future__ import annotations

import pyarrow


def use_lean_arrow_memory() -> None:
    """Switch Arrow to jemalloc with no decay (once, before the work: only buffers made
    afterwards use it)."""
    if "jemalloc" in pyarrow.supported_memory_backends():
        pyarrow.set_memory_pool(pyarrow.jemalloc_memory_pool())
        pyarrow.jemalloc_set_decay_ms(0)
