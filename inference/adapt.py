"""Adapting the model's normalisation to a district's own imagery, without labels (AdaBN).

Batch normalisation keeps the mean and variance of every channel as the training images
produced them. Imagery from another sensor shifts those statistics (brighter, softer,
another colour balance), and each layer then passes on inputs outside the range it learned
on. Re-estimating the statistics on the district's own unlabelled tiles, weights untouched,
recovers much of that loss (Li et al., "Revisiting Batch Normalization for Practical Domain
Adaptation", 2016). It costs one forward pass over a few hundred tiles.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from numpy.typing import NDArray

from inference.model import TileNet


def adapt(net: TileNet, batches: Iterable[NDArray[np.uint8]]) -> int:
    """Replace every batch-norm layer's running statistics by those of `batches` (uint8 NHWC at the input
    size), as a cumulative average over all of them; returns how many images were seen."""
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # a plain average over every batch, not an exponential one
    net.eval()
    for norm in norms:
        norm.train()
    seen = 0
    with torch.no_grad():
        for batch in batches:
            if len(batch) < 2:
                continue  # one image has no variance to measure
            net(torch.from_numpy(np.ascontiguousarray(batch)))
            seen += len(batch)
    for norm in norms:
        norm.momentum = 0.1
    net.eval()
    return seen
