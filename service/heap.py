"""The garbage collector, set for a server that judges batches of fixes.

A batch of 2,000 fixes makes a few hundred thousand short-lived objects (rows, verdicts,
stays). With CPython's default thresholds every 70,000 of them or so set off a collection of
the oldest generation, which walks every object the process holds, the imported libraries'
included: measured in-process on 2,000 tags (``zones bench ingest``'s breakdown), collection
took about 30 % of a batch. What the process holds once it has started is frozen out of
collection (it lives as long as the process), and the youngest generation is collected less
often; reference counting still frees what is not in a cycle at once.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)  # youngest generation every 50,000 allocations, not 700


def settle() -> None:
    """Freeze what the process holds now, and collect less often from now on."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
