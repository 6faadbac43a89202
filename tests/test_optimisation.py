"""The optimiser and learning-rate schedule: warm-up then cosine decay, resumable; AdamW's decoupled decay."""
import dataclasses

import pytest
import torch

from retina.config import TrainSettings
from retina.train.optimisation import WARMUP_START, describe_recipe, make_optimizer, make_schedule

SETTINGS = TrainSettings(epochs=10, batch_size=4, lr=0.01, loss="bce+dice", augment=True, crop=0, soft_masks=False,
                         val_every=1, precision="fp32", device="cpu")


def learning_rates(settings: TrainSettings, steps: int) -> list[float]:
    """The learning rate each of `steps` optimiser steps uses."""
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(3))], settings)
    sched = make_schedule(opt, settings, steps)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


def test_without_warm_up_the_rate_starts_at_lr_and_decays_along_a_cosine_to_zero():
    rates = learning_rates(SETTINGS, 100)
    assert rates[0] == pytest.approx(0.01)
    assert rates[50] == pytest.approx(0.005, rel=1e-6)
    assert all(a > b for a, b in zip(rates, rates[1:]))
    assert rates[-1] < 1e-5


def test_warm_up_rises_linearly_from_a_25th_of_lr_to_lr_then_decays():
    rates = learning_rates(dataclasses.replace(SETTINGS, warmup=0.2), 100)
    assert rates[0] == pytest.approx(0.01 * WARMUP_START)
    assert rates[10] == pytest.approx(0.01 * (WARMUP_START + (1 - WARMUP_START) / 2))
    assert max(rates) == pytest.approx(0.01) and rates.index(max(rates)) == 20
    assert all(a < b for a, b in zip(rates[:20], rates[1:21]))
    assert all(a > b for a, b in zip(rates[20:], rates[21:]))
    assert rates[60] == pytest.approx(0.005, rel=1e-6)  # half-way through the decay's 80 steps
    assert rates[-1] < 1e-5


def test_a_schedule_restored_from_its_state_continues_where_it_stopped():
    settings = dataclasses.replace(SETTINGS, warmup=0.3)
    opt = make_optimizer([torch.nn.Parameter(torch.zeros(3))], settings)
    sched = make_schedule(opt, settings, 40)
    for _ in range(17):
        opt.step()
        sched.step()
    opt2 = make_optimizer([torch.nn.Parameter(torch.zeros(3))], settings)
    sched2 = make_schedule(opt2, settings, 40)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"] == learning_rates(settings, 40)[17]


@pytest.mark.parametrize("optimizer, decay, shrink", [("adam", 0.0, 1.0), ("adamw", 0.1, 1 - 0.01 * 0.1)])
def test_adamw_shrinks_weights_by_lr_times_decay_each_step_and_adam_does_not(optimizer, decay, shrink):
    weight = torch.nn.Parameter(torch.full((4,), 2.0))
    opt = make_optimizer([weight], dataclasses.replace(SETTINGS, optimizer=optimizer, weight_decay=decay))
    for _ in range(3):
        weight.grad = torch.zeros_like(weight)  # no gradient: only the decay moves the weight
        opt.step()
    assert torch.allclose(weight.detach(), torch.full((4,), 2.0 * shrink**3))


def test_the_recipe_in_words_names_optimiser_decay_and_warm_up():
    assert describe_recipe(SETTINGS) == "Adam at learning rate 0.01 cosine-decayed to 0 over the run"
    text = describe_recipe(dataclasses.replace(SETTINGS, warmup=0.1, optimizer="adamw", weight_decay=0.01))
    assert text == ("AdamW (weight decay 0.01) at learning rate 0.01 cosine-decayed to 0 over the run after a linear "
                    "warm-up from 0.0004 over the first 10% of the steps")
