"""How many threads torch uses, for one block of code.

The paper times every model with one CPU thread; benchmarks and probes set the count for their
measurement and give the caller's setting back afterwards, also when the block raises.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """``with torch_threads(1): ...`` runs the block with ``torch.set_num_threads(n)``, then restores."""
    if n < 1:
        raise ValueError(f"thread count must be >= 1, got {n}")
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)
