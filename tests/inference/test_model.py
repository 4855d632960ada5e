from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import torch

from inference import modelfile
from inference.model import EMBEDDING_DIM, TileNet, _same_padding, build, normalise


def tiny_batch(n: int = 2, side: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng(seed).integers(0, 255, (n, side, side, 3), dtype=np.uint8))


def test_same_padding_matches_tensorflow() -> None:
    assert _same_padding(224, 224, 3, 2) == (0, 1, 0, 1)
    assert _same_padding(56, 56, 5, 2) == (1, 2, 1, 2)
    assert _same_padding(7, 7, 3, 2) == (1, 1, 1, 1)


def test_normalise_takes_uint8_nhwc_only() -> None:
    x = normalise(torch.full((1, 4, 4, 3), 255, dtype=torch.uint8))
    assert x.shape == (1, 3, 4, 4)
    assert x.is_contiguous(memory_format=torch.channels_last)
    assert float(x.max()) == pytest.approx(127.5 / 128)
    with pytest.raises(ValueError, match="uint8"):
        normalise(torch.zeros((1, 3, 4, 4)))


def test_imagenet_weights_load_into_the_trunk() -> None:
    net = build(5, pretrained=True)
    assert net.backbone._conv_stem.weight.abs().sum() > 0
    out = net.eval()(tiny_batch())
    assert out.embedding.shape == (2, EMBEDDING_DIM)
    assert out.logits.shape == (2, 5)
    assert torch.linalg.norm(out.embedding, dim=1).detach().numpy() == pytest.approx([1.0, 1.0], abs=1e-5)


def test_same_tile_same_model_same_embedding_and_fused_model_agrees(tmp_path: Path) -> None:
    net = build(3, pretrained=True).eval()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    info = modelfile.ModelInfo("v", ("a", "b", "c"), 64, {"a": 1.0}, when)
    modelfile.save(tmp_path / "m.pt", net, info)
    first, loaded_info = modelfile.load(tmp_path / "m.pt")
    second, _ = modelfile.load(tmp_path / "m.pt")
    assert loaded_info == info
    with torch.inference_mode():
        a = first(tiny_batch()).embedding
        b = second(tiny_batch()).embedding
        fused = modelfile.fuse_for_inference(first)(tiny_batch())
    assert torch.equal(a, b)
    assert torch.allclose(fused.embedding, a, atol=1e-4)


def test_version_follows_the_weights() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    one = modelfile.half_state(TileNet(3))
    torch.manual_seed(1)
    other = modelfile.half_state(TileNet(3))
    assert modelfile.version_for(one, when) == modelfile.version_for(dict(one), when)
    assert modelfile.version_for(one, when) != modelfile.version_for(other, when)
    assert modelfile.version_for(one, when).startswith("tilenet-20260101-")


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.pt").write_bytes(b"not a model")
    with pytest.raises(modelfile.ModelFileError):
        modelfile.load(tmp_path / "x.pt")
    torch.save({"format": "something else"}, tmp_path / "y.pt")
    with pytest.raises(modelfile.ModelFileError, match="not a vigia-tilenet"):
        modelfile.load(tmp_path / "y.pt")
