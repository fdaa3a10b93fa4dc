"""The hand-written MLP gradients equal autograd's, for every activation and with dropout."""

import pytest
import torch
import torch.nn.functional as F

import hpcourse as hp
from hpcourse.backprop import mlp_gradients, mlp_layers
from hpcourse.models import ACTIVATIONS


def _autograd(model, x, y, masks=None, p=0.0):
    """Reference: the same forward pass written with autograd, applying the given masks."""
    h, k = x, 0
    for module in model:
        if isinstance(module, torch.nn.Dropout):
            h = h * masks[k].to(h.dtype) / (1 - p)
            k += 1
        else:
            h = module(h)
    loss = F.cross_entropy(h, y)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    return loss.item(), grads


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("hidden", "dropout"), [([], 0.0), ([16], 0.0), ([16, 8], 0.3)])
def test_gradients_match_autograd(activation, hidden, dropout):
    torch.manual_seed(0)
    model = hp.MLP(5, hidden, 3, activation=activation, dropout=dropout)
    x, y = torch.randn(7, 5), torch.randint(0, 3, (7,))
    masks = [torch.rand(7, w) > dropout for w in hidden]
    ref_loss, ref_grads = _autograd(model, x, y, masks, dropout)
    layers, act, p = mlp_layers(model)
    loss = mlp_gradients(layers, act, p, x, y, masks=masks if dropout else None)
    assert loss == pytest.approx(ref_loss, rel=1e-6)
    for param, ref in zip(model.parameters(), ref_grads, strict=True):
        torch.testing.assert_close(param.grad, ref, rtol=1e-5, atol=1e-6)


def test_other_models_fall_back_to_autograd():
    assert mlp_layers(torch.nn.Sequential(torch.nn.Linear(3, 2))) is None
    odd = hp.MLP(3, [4], 2)
    odd[1] = torch.nn.LeakyReLU(0.2)  # a slope we do not differentiate by hand
    assert mlp_layers(odd) is None


def test_fast_and_autograd_training_agree():
    data = hp.load_dataset("digits")
    cfg = {"epochs": 3, "optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-4}
    fast = hp.train(cfg, data)
    slow = hp.train(cfg, data, fast=False)
    assert fast.step_loss[:5] == pytest.approx(slow.step_loss[:5], rel=1e-4)
    assert fast.final_val_acc == pytest.approx(slow.final_val_acc, abs=0.01)
