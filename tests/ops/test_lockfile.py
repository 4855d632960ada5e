"""The image's requirements: the lock's pins and hashes, torch's CPU build instead of the CUDA stack."""

from pathlib import Path

import pytest

from ops.lockfile import LockError, entries, for_image

ROOT = Path(__file__).resolve().parents[2]
LOCK = """\
# made by make lock
numpy==2.4.6 \\
    --hash=sha256:aaa \\
    --hash=sha256:bbb
    # via torch, onnx
nvidia-cublas==13.4.1.3 \\
    --hash=sha256:ccc
    # via torch
torch==2.15.0 \\
    --hash=sha256:ddd
triton==3.9.0 ; platform_machine == 'x86_64' \\
    --hash=sha256:eee
cuda-bindings==13.5.0 \\
    --hash=sha256:fff
sympy==1.14.0 \\
    --hash=sha256:ggg
    # via torch
"""


def test_the_cuda_stack_goes_and_everything_else_stays_with_its_hashes() -> None:
    requirements, torch = for_image(LOCK)
    assert torch == "torch==2.15.0+cpu"
    kept = entries(requirements)
    assert [(e.name, e.version) for e in kept] == [("numpy", "2.4.6"), ("sympy", "1.14.0")]
    assert kept[0].lines[1:3] == ["    --hash=sha256:aaa \\", "    --hash=sha256:bbb"]


def test_a_lock_without_torch_is_refused() -> None:
    with pytest.raises(LockError, match="no torch"):
        for_image("numpy==2.4.6 \\\n    --hash=sha256:aaa\n")


def test_the_projects_lock_gives_the_image_its_torch_and_no_cuda_package() -> None:
    locked = {e.name: e.version for e in entries((ROOT / "requirements.lock").read_text())}
    requirements, torch = for_image((ROOT / "requirements.lock").read_text())
    assert torch == f"torch=={locked['torch']}+cpu"
    left = {e.name for e in entries(requirements)}
    assert not [name for name in left if name.startswith(("nvidia-", "cuda-", "triton", "torch"))]
    assert {"numpy", "onnxruntime", "mlflow", "faust-streaming"} <= left
    assert all(line.strip().startswith(("--hash", "#")) or "==" in line for line in requirements.splitlines())
