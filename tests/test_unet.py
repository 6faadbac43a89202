"""The U-Net and its blocks: shapes, the SE block's re-weighting, clear errors."""
from __future__ import annotations

import pytest
import torch

from retina.config import ACTIVATIONS, ConfigError
from retina.train.model import ConvBlock, SqueezeExcite, UNet, count_parameters, make_activation


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("attention", ["none", "se"])
@pytest.mark.parametrize("size", [32, 64])
def test_forward_shape(activation, attention, size):
    model = UNet(width=4, depth=3, activation=activation, attention=attention, se_reduction=2).eval()
    out = model(torch.rand(2, 3, size, size))
    assert out.shape == (2, 1, size, size) and torch.isfinite(out).all()


def test_the_activation_named_is_the_one_applied():
    """Same weights, another activation: another output; and each activation layer computes its own function."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    nets = {a: UNet(width=4, depth=2, activation=a).eval() for a in ACTIVATIONS}
    weights = nets["relu"].state_dict()
    outputs = {}
    for name, net in nets.items():
        net.load_state_dict(weights)
        outputs[name] = net(x)
    for a in ACTIVATIONS:
        for b in ACTIVATIONS:
            if a < b:
                assert not torch.allclose(outputs[a], outputs[b], atol=1e-4), (a, b)
    z = torch.linspace(-3, 3, 61)
    expected = {"relu": z.clamp(min=0), "silu": z * torch.sigmoid(z), "leaky_relu": torch.where(z > 0, z, 0.01 * z),
                "gelu": 0.5 * z * (1 + torch.erf(z / 2 ** 0.5))}
    for name in ACTIVATIONS:
        assert torch.allclose(make_activation(name)(z.clone()), expected[name], atol=1e-6), name
        acts = [m for m in nets[name].modules() if type(m) is type(make_activation(name))]
        assert len(acts) == 2 * (2 * 2 + 1)  # two per conv block, nothing else


def test_rectangular_and_deeper_inputs():
    assert UNet(width=4, depth=4)(torch.rand(1, 3, 32, 48)).shape == (1, 1, 32, 48)


def test_se_reweights_channels_with_a_learned_gate():
    torch.manual_seed(0)
    se = SqueezeExcite(channels=8, reduction=4, activation="relu")
    assert se.fc1.out_features == 2 and se.fc2.out_features == 8  # the smaller layer first
    x = torch.rand(2, 8, 5, 5) + torch.arange(8.0)[None, :, None, None]
    y = se(x)
    gate = y / x
    per_channel = gate.flatten(2)
    assert torch.allclose(per_channel, per_channel[..., :1].expand_as(per_channel), atol=1e-6)  # one weight a channel
    weights = per_channel[..., 0]
    assert ((weights > 0) & (weights < 1)).all() and weights.std() > 1e-3  # a sigmoid gate, not an identity
    assert not torch.allclose(y, x)


def test_se_adds_parameters_only_when_asked():
    plain, se = UNet(width=8, depth=2), UNet(width=8, depth=2, attention="se", se_reduction=4)
    assert count_parameters(se) > count_parameters(plain)
    assert not any(isinstance(m, SqueezeExcite) for m in plain.modules())
    assert sum(isinstance(m, SqueezeExcite) for m in se.modules()) == 2 * 2 + 1  # every conv block


def test_size_the_network_cannot_take():
    with pytest.raises(ConfigError, match="multiples of 16"):
        UNet(width=4, depth=4)(torch.rand(1, 3, 40, 40))


def test_unknown_activation_and_attention_list_choices():
    with pytest.raises(ConfigError, match="choices: relu, silu, gelu, leaky_relu"):
        make_activation("swish")
    with pytest.raises(ConfigError, match="choices: none, se"):
        ConvBlock(3, 4, "relu", attention="cbam")
