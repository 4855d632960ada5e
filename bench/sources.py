"""`make bench-sources`: what a model is worth on imagery from another source, and what AdaBN gives back.

On the shared tiles no model trained on (the lowest-hashing 15 % of each class, the test split
of `vigia train`), each model is judged three ways: as the archive shows the tiles; as other
sensors would (0.6-2 m a pixel, blur, colour, JPEG: `inference/degrade.py`); and on those
degraded tiles after its normalisation was re-estimated on them, unlabelled (AdaBN).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from inference import dataset, modelfile
from inference.adapt import adapt
from inference.assessor import DEFAULT_MODEL
from inference.degrade import as_other_sensors
from inference.metrics import evaluate
from inference.training import predict
from vigia.settings import load_settings


def figures(path: Path) -> dict[str, dict[str, float]]:
    net, info = modelfile.load(path)
    folder = dataset.scan(load_settings().imagery_dir / "ucmerced", classes=info.classes)
    _, _, test = dataset.split(folder, 0.15, 0.15)
    images, labels = dataset.load(test)
    housing = [name for name, weight in info.housing_weights.items() if weight > 0]
    clean = dataset.fit(images, info.input_size)
    other = dataset.fit(as_other_sensors(images), info.input_size)

    def judged(inputs: NDArray[np.uint8]) -> dict[str, float]:
        probabilities, _ = predict(net, inputs)
        return evaluate(labels.tolist(), probabilities.argmax(axis=1).tolist(), info.classes).summary(housing)

    found = {"clean": judged(clean), "other sensors": judged(other)}
    adapt(net, (other[i : i + 32] for i in range(0, len(other), 32)))
    found["other sensors, adapted"] = judged(other)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", type=Path, help="model files (default: the shipped one)")
    args = parser.parse_args()
    last = ""
    for path in args.models or [DEFAULT_MODEL]:
        found = figures(path)
        print(path)
        for name, summary in found.items():
            print(f"  {name:<24} " + "  ".join(f"{k} {v:.3f}" for k, v in summary.items()))
        clean = found["clean"]["housing_macro_f1"]
        other = found["other sensors"]["housing_macro_f1"]
        adapted = found["other sensors, adapted"]["housing_macro_f1"]
        last = (
            f"housing_f1_clean={clean:.3f} housing_f1_other={other:.3f} housing_f1_adapted={adapted:.3f}"
            f" kept_other={other / clean:.2f} kept_adapted={adapted / clean:.2f}"
        )
    print(last)


if __name__ == "__main__":
    main()
