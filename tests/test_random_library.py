"""Through the library, torch's random numbers: ``nn.init`` and the models it starts, dropout
masks, shuffled DataLoader epochs and the samplers (see test_random_streams.py)."""

from __future__ import annotations

import numpy as np
import pytest
from test_random_streams import SEEDS, assert_identical, bits, both, check

from helpers import my_cool_net


@pytest.mark.parametrize("build", [
    lambda lib: lib.nn.Linear(3, 2),
    lambda lib: lib.nn.Linear(20, 33, bias=False),
    lambda lib: lib.nn.LSTM(3, 4, num_layers=2),
    lambda lib: lib.nn.GRU(5, 3, bidirectional=True),
    lambda lib: lib.nn.Embedding(10, 4),
    lambda lib: lib.nn.LayerNorm(6),
    lambda lib: lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2)),
    my_cool_net,
], ids=["linear", "linear-no-bias", "lstm", "gru", "embedding", "layernorm", "sequential",
        "MyCoolNet"])
def test_models_start_with_torchs_weights(build):
    def weights(lib, dev):
        return [p.detach() for p in build(lib).parameters()]
    check(weights, seeds=SEEDS[:3])


INITS = {
    "uniform_": lambda lib, t: lib.nn.init.uniform_(t, -0.3, 0.6),
    "normal_": lambda lib, t: lib.nn.init.normal_(t, 0.1, 0.02),
    "xavier_uniform_": lambda lib, t: lib.nn.init.xavier_uniform_(t, gain=1.5),
    "xavier_normal_": lambda lib, t: lib.nn.init.xavier_normal_(t),
    "kaiming_uniform_": lambda lib, t: lib.nn.init.kaiming_uniform_(t, a=0.2),
    "kaiming_normal_": lambda lib, t: lib.nn.init.kaiming_normal_(t, mode="fan_out"),
    "sparse_": lambda lib, t: lib.nn.init.sparse_(t, 0.4),
    "trunc_normal_": lambda lib, t: lib.nn.init.trunc_normal_(t, 0.1, 0.5, -0.3, 0.6),
    "trunc_normal_ tail": lambda lib, t: lib.nn.init.trunc_normal_(t, 0.0, 1.0, 1.5, 3.0),
}


@pytest.mark.parametrize("name", sorted(INITS))
def test_init_functions(name, device):
    check(lambda lib, dev: INITS[name](lib, lib.empty(9, 7, device=dev)), seeds=SEEDS[:3],
          device=device)


def test_orthogonal_draws_torchs_numbers():
    # orthogonal_ goes through a QR factorisation whose rounding is LAPACK's: the matrix may
    # differ in the last bits, the normal draws under it (and the stream after) do not
    for seed in SEEDS[:3]:
        ours, theirs = both(lambda lib, dev: (lib.nn.init.orthogonal_(lib.empty(5, 8)),
                                              lib.nn.init.orthogonal_(lib.empty(6, 2, 2)),
                                              lib.rand(3)), seed)
        for a, b in zip(ours[:2], theirs[:2]):
            np.testing.assert_allclose(bits(a), bits(b), rtol=0, atol=1e-6)
        assert_identical(ours[2], theirs[2])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.37, 1.0])
def test_dropout_masks(p, device):
    def masks(lib, dev):
        x = lib.randn(6, 9, device=dev)
        return (lib.nn.functional.dropout(x, p), lib.nn.Dropout(p)(x.t()),
                lib.nn.functional.dropout(x.double(), p, training=True))
    check(masks, seeds=SEEDS[:3], device=device)


def test_shuffled_dataloader_epochs_and_samplers():
    def batches(lib, dev):
        data = lib.utils.data.TensorDataset(lib.arange(23))
        loader = lib.utils.data.DataLoader(data, batch_size=5, shuffle=True)
        epochs = [batch[0] for _ in range(3) for batch in loader]
        seeded = lib.utils.data.DataLoader(data, batch_size=4, shuffle=True,
                                           generator=lib.Generator().manual_seed(9))
        split = lib.utils.data.random_split(range(10), [3, 7])
        drawn = [lib.tensor(split[0].indices), lib.tensor(split[1].indices),
                 lib.tensor(list(lib.utils.data.SubsetRandomSampler([5, 6, 7, 8]))),
                 lib.tensor(list(lib.utils.data.RandomSampler(range(9), replacement=True,
                                                              num_samples=40))),
                 lib.tensor(list(lib.utils.data.WeightedRandomSampler([0.1, 0.5, 0.4], 12)))]
        return epochs + [batch[0] for batch in seeded] + drawn + [lib.rand(3)]
    check(batches, seeds=SEEDS[:3])


def test_dropout_inside_layers_draws_torchs_masks():
    # the layers' arithmetic may round differently in the last bits; a different mask would
    # change values by whole units, and the stream after them must be the same
    def run(lib, dev):
        encoder = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3)
        lstm = lib.nn.LSTM(4, 5, num_layers=2, dropout=0.4)
        x, y, q = lib.randn(3, 2, 8), lib.randn(6, 2, 4), lib.randn(1, 2, 5, 4)
        return (encoder(x), lstm(y)[0],
                lib.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=0.5),
                lib.rand(5))
    for seed in SEEDS[:3]:
        ours, theirs = both(run, seed)
        for a, b in zip(ours[:3], theirs[:3]):
            np.testing.assert_allclose(bits(a), bits(b), rtol=1e-5, atol=1e-6)
        assert_identical(ours[3], theirs[3])


@pytest.mark.parametrize("name, args, shape", [
    ("dropout1d", (0.3,), (2, 4, 5)),
    ("dropout2d", (0.4,), (2, 3, 4, 4)),
    ("dropout3d", (0.5,), (2, 3, 2, 2, 2)),
    ("alpha_dropout", (0.3, True), (4, 6)),
    ("feature_alpha_dropout", (0.3, True), (2, 3, 4)),
])
def test_channel_and_alpha_dropout_masks(name, args, shape, device):
    def masks(lib, dev):
        x = lib.ones(*shape, device=dev) * 1.5
        return getattr(lib.nn.functional, name)(x, *args), lib.rand(3, device=dev)
    check(masks, seeds=SEEDS[:3], device=device)
