"""Datasets load offline, split three ways with a seed, and fail clearly when they cannot."""

import socket
import struct

import numpy as np
import pytest
import torch

import hpcourse as hp


@pytest.fixture
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("the test tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_digits_splits_are_seeded_stratified_and_disjoint(no_network):
    a = hp.load_dataset("digits", seed=0)
    b = hp.load_dataset("digits", seed=0)
    c = hp.load_dataset("digits", seed=1)
    assert sum(a.sizes().values()) == 1797
    assert torch.equal(a.x_val, b.x_val) and not torch.equal(a.x_val, c.x_val)
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert a.n_features == 64 and a.n_classes == 10
    # standardized with training statistics: train features have mean ~0
    assert a.x_train.mean(0).abs().max() < 1e-5
    # every class is present in every split
    for y in (a.y_train, a.y_val, a.y_test):
        assert set(y.tolist()) == set(range(10))
    rows = {tuple(r) for r in a.x_train.numpy().round(5).tolist()}
    overlap = sum(tuple(r) in rows for r in a.x_test.numpy().round(5).tolist())
    assert overlap < 5  # a few digits are exact duplicates in the raw data, no more


def test_mnist1d_is_generated_locally_without_network(no_network, tmp_path, monkeypatch):
    monkeypatch.setenv("HPCOURSE_CACHE", str(tmp_path))
    data = hp.load_dataset("mnist1d")
    assert data.sizes() == {"train": 3200, "val": 800, "test": 1000}
    assert data.n_features == 40 and data.n_classes == 10
    assert list(tmp_path.glob("mnist1d_*.npz")), "the generated data should be cached"
    again = hp.load_dataset("mnist1d")  # from the cache this time
    assert torch.equal(data.x_train, again.x_train)


def _write_idx(path, array, magic):
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def fake_fashion(tmp_path):
    """A tiny FashionMNIST in the real IDX format, where torchvision looks for it."""
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 200), ("t10k", 50)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 2051)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 2049)
    return tmp_path


def test_fashion_mnist_loads_real_idx_files(fake_fashion, no_network):
    data = hp.load_dataset("fashion_mnist", root=fake_fashion, max_train=100)
    assert data.sizes() == {"train": 100, "val": 40, "test": 50}
    assert data.n_features == 784 and data.input_shape == (1, 28, 28)
    assert data.class_names[9] == "Ankle boot"
    history = hp.train({"epochs": 2, "batch_size": 20}, data)
    assert not history.diverged


def test_fashion_mnist_missing_files_says_what_to_do(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match=r"download=True.*name='digits'"):
        hp.load_dataset("fashion_mnist", root=tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "cifar"}, r"name='cifar' is not allowed: name must be one of 'digits'"),
        (
            {"val_fraction": 1.0},
            r"val_fraction=1.0 is not allowed: val_fraction must be in \(0, 1\)",
        ),
        ({"test_fraction": 0}, r"test_fraction=0 is not allowed"),
        ({"seed": -2}, r"seed=-2 is not allowed: seed must be an integer >= 0"),
        ({"max_train": 3}, r"max_train=3 is not allowed: max_train must be an integer >= 10"),
    ],
)
def test_bad_dataset_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        hp.load_dataset(**kwargs)
