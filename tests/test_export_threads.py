"""torch_threads sets the thread count for a block and gives the old one back, also on errors."""
from __future__ import annotations

import pytest
import torch

from rtmposelib.export.threads import torch_threads


def test_sets_and_restores_even_when_the_block_raises():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), torch_threads(1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match=">= 1"), torch_threads(0):
        pass
