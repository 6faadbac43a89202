"""The study's U-Net: ConvBlock, SqueezeExcite, UNet and the activation registry."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from retina.config import ACTIVATIONS, ATTENTIONS, ModelSpec, check_image_size
from retina.errors import ConfigError

ACTIVATION_LAYERS: dict[str, Callable[[], nn.Module]] = {
    "relu": lambda: nn.ReLU(inplace=True),
    "silu": lambda: nn.SiLU(inplace=True),
    "gelu": nn.GELU,
    "leaky_relu": lambda: nn.LeakyReLU(0.01, inplace=True),
}
assert tuple(ACTIVATION_LAYERS) == ACTIVATIONS, "config.ACTIVATIONS and the layer registry must name the same set"


def make_activation(name: str) -> nn.Module:
    """A fresh activation layer by name; an unknown name is a ConfigError listing the choices."""
    if name not in ACTIVATION_LAYERS:
        raise ConfigError(f"unknown activation {name!r}; choices: {', '.join(ACTIVATION_LAYERS)}")
    return ACTIVATION_LAYERS[name]()


class SqueezeExcite(nn.Module):
    """Squeeze-and-Excitation (Hu et al. 2018): re-weight channels by a gate computed from their global averages.

    Global average pool -> fully-connected C -> C/r -> activation -> fully-connected C/r -> C -> sigmoid -> multiply.
    """

    def __init__(self, channels: int, reduction: int, activation: str) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = make_activation(activation)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc2(self.act(self.fc1(self.pool(x).flatten(1)))))
        return x * gate[:, :, None, None]


class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions, each followed by BatchNorm and the activation; optionally SE at the end.

    SE sits after the second activation, as in the study and in SE-ResNet-style blocks: it sees the block's final
    features and re-weights exactly what is passed on (to the skip connection and to the next level).
    """

    def __init__(self, in_ch: int, out_ch: int, activation: str, attention: str = "none", reduction: int = 8) -> None:
        layers: list[nn.Module] = []
        for c_in in (in_ch, out_ch):
            layers += [nn.Conv2d(c_in, out_ch, 3, padding=1, bias=False), nn.BatchNorm2d(out_ch),
                       make_activation(activation)]
        if attention == "se":
            layers.append(SqueezeExcite(out_ch, reduction, activation))
        elif attention != "none":
            raise ConfigError(f"unknown attention {attention!r}; choices: {', '.join(ATTENTIONS)}")
        super().__init__(*layers)


class UNet(nn.Module):
    """U-Net (Ronneberger et al. 2015): `depth` down-samplings, widths `width * 2**level`, skip connections.

    Returns logits of shape (N, 1, H, W); H and W must be multiples of 2**depth.
    """

    def __init__(self, width: int = 16, depth: int = 4, activation: str = "relu", attention: str = "none",
                 se_reduction: int = 8, in_channels: int = 3) -> None:
        super().__init__()
        self.depth = depth
        widths = [width * 2**level for level in range(depth + 1)]

        def block(c_in: int, c_out: int) -> ConvBlock:
            return ConvBlock(c_in, c_out, activation, attention, se_reduction)

        self.down = nn.ModuleList([block(in_channels, widths[0])] +
                                  [block(widths[i], widths[i + 1]) for i in range(depth)])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in range(depth)])
        self.decode = nn.ModuleList([block(2 * widths[i], widths[i]) for i in range(depth)])
        self.head = nn.Conv2d(widths[0], 1, 1)

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> UNet:
        """Build the model a ModelSpec describes, after checking its input size."""
        check_image_size(spec.image_size, spec.depth, f"{spec.name}.image_size")
        return cls(spec.width, spec.depth, spec.activation, spec.attention, spec.se_reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        step = 2**self.depth
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ConfigError(f"input of size {x.shape[-2]}x{x.shape[-1]} cannot pass a U-Net of depth {self.depth}: "
                              f"height and width must be multiples of {step}")
        skips = []
        for i, down in enumerate(self.down):
            x = down(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for i in reversed(range(self.depth)):
            x = self.decode[i](torch.cat([self.up[i](x), skips[i]], dim=1))
        return self.head(x)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
