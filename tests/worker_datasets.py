"""Datasets that a spawned DataLoader worker imports (this module imports gputensor alone)."""

from __future__ import annotations

import gputensor
import gputensor.utils.data as data


class SpawnSquares(data.Dataset):
    """Eight samples ``[i, i * i]``."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return gputensor.tensor([i, i * i])
