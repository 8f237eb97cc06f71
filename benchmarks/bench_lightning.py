"""The Lightning callback's overhead: LeNet-5 on the digits, fitted with and without it.

Both fits train the same seeded model on the same batches (the digits' 1258 training images,
batches of 64, Adam); the measured fit adds :class:`~infoflow.integrations.lightning.InformationFlow`
with the defaults of ``infoflow run`` (probe of 500 held-out images, conv1, conv2, fc1, fc2,
conv layers as one tensor, silverman, alpha 1.01) measuring every ``--every`` steps. Prints
the best-of-``--repeats`` wall time of each fit, the callback's own measuring time and its share
of the measured fit, on one thread (torch and BLAS) so that the figures do not depend on what
else the machine runs in parallel.

Run: ``python benchmarks/bench_lightning.py [--epochs 5] [--every 20] [--repeats 2]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings

import torch
from threadpoolctl import threadpool_limits
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import lightning.pytorch as pl
from infoflow.data import load_dataset
from infoflow.integrations.lightning import InformationFlow
from infoflow.models import build_model


class Classifier(pl.LightningModule):
    def __init__(self, data) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.net = build_model("lenet5", in_channels=data.channels, image_size=data.image_size,
                               classes=data.classes)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-3)


class Digits(pl.LightningDataModule):
    def __init__(self, data) -> None:
        super().__init__()
        self.data = data

    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.tensor(self.data.train_x),
                                        torch.tensor(self.data.train_y)), batch_size=64)

    def val_dataloader(self):
        return DataLoader(TensorDataset(torch.tensor(self.data.test_x),
                                        torch.tensor(self.data.test_y)), batch_size=256)


def fit(data, epochs: int, callback: InformationFlow | None) -> float:
    with tempfile.TemporaryDirectory() as folder:
        trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False,
                             callbacks=[callback] if callback else [], default_root_dir=folder,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, num_sanity_val_steps=0,
                             limit_val_batches=0)
        start = time.perf_counter()
        trainer.fit(Classifier(data), Digits(data))
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--every", type=int, default=20, help="measure every N steps")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    data = load_dataset("digits")
    torch.set_num_threads(1)
    plain, measured, measuring, checkpoints = [], [], [], 0
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(args.repeats):
            plain.append(fit(data, args.epochs, None))
            callback = InformationFlow(probe=500, layers=["conv1", "conv2", "fc1", "fc2"],
                                       every_n_steps=args.every, write_run=False)
            measured.append(fit(data, args.epochs, callback))
            measuring.append(callback.measure_seconds)
            checkpoints = len(callback.monitor.checkpoints)
    best = min(range(args.repeats), key=measured.__getitem__)
    print(f"LeNet-5 on the digits, {args.epochs} epochs of 20 steps, one thread, "
          f"best of {args.repeats}")
    print(f"fit without the callback  {min(plain):8.2f} s")
    print(f"fit with the callback     {measured[best]:8.2f} s  ({checkpoints} checkpoints, "
          f"every {args.every} steps, probe n = 500)")
    print(f"measuring                 {measuring[best]:8.2f} s  "
          f"({100 * measuring[best] / measured[best]:.0f}% of the fit, "
          f"{measuring[best] / checkpoints:.2f} s per checkpoint)")


if __name__ == "__main__":
    main()
