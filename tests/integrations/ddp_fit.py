"""A Lightning fit under DDP on 2 CPU processes (gloo) with the callback, run by the tests as a
script: ``python tests/integrations/ddp_fit.py OUT working|broken``."""

from __future__ import annotations

import sys

import lightning.pytorch as pl

from infoflow.integrations.lightning import InformationFlow
from tests.integrations.test_lightning import Classifier, Data


class Broken(Classifier):
    """Its fc1 fails in eval mode, which only infoflow's measurement uses."""

    def __init__(self) -> None:
        super().__init__()
        self.net.fc1.register_forward_hook(self.fail)

    @staticmethod
    def fail(module, args, output):
        if not module.training:
            raise ValueError("cannot measure this layer")
        return output


def main(out: str, case: str) -> None:
    callback = InformationFlow(probe=30, layers=["conv1", "fc1"], every_n_steps=2, out=out)
    trainer = pl.Trainer(strategy="ddp_spawn", accelerator="cpu", devices=2, max_epochs=2,
                         callbacks=[callback], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         num_sanity_val_steps=0, limit_val_batches=0)
    trainer.fit(Broken() if case == "broken" else Classifier(), Data())
    print("fit ended")


if __name__ == "__main__":
    main(*sys.argv[1:3])
