"""`make bench-change`: the change threshold against the shared tiles, as the model card of change detection.

Every class's last tiles against themselves degraded as another acquisition would see them
(re-lit, blurred, shifted, re-encoded) and against a tile of another class. Prints both
distributions of embedding distance, the threshold, and how often each side fired.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from inference.assessor import Assessor
from inference.change import DISTANCE
from inference.change_calibration import measure
from vigia.settings import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-class", type=int, default=10, help="tiles of each class to pair")
    args = parser.parse_args()
    root = load_settings().imagery_dir / "ucmerced"
    by_class = {c.name: sorted(c.glob("*.jpg"))[-args.per_class :] for c in sorted(root.iterdir()) if c.is_dir()}
    started = time.monotonic()
    pairs = measure(Assessor.from_file(), by_class)
    same, different = np.array(pairs.same), np.array(pairs.different)
    print(f"{len(same)} pairs each way, {time.monotonic() - started:.0f} s")
    p50, p99 = np.percentile(same, [50, 99])
    print(f"same tile, degraded:   p50 {p50:.3f}  p99 {p99:.3f}  max {same.max():.3f}")
    q1, q50 = np.percentile(different, [1, 50])
    print(f"different classes:     min {different.min():.3f}  p1 {q1:.3f}  p50 {q50:.3f}")
    margins = f"margin_same={DISTANCE - same.max():.3f} margin_different={different.min() - DISTANCE:.3f}"
    print(
        f"threshold={DISTANCE} {margins} false_fired={pairs.same_fired}/{len(same)}"
        f" found={pairs.different_fired}/{len(different)}"
    )


if __name__ == "__main__":
    main()
