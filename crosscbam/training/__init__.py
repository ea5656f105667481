"""Training under the authors' protocol (Sec. 4.2, DESIGN.md §4): config, loss, schedule, loop, checkpoints."""

from crosscbam.training.config import PRESETS, TrainConfig, make_config
from crosscbam.training.losses import PaperLoss
from crosscbam.training.trainer import train

__all__ = ["PRESETS", "PaperLoss", "TrainConfig", "make_config", "train"]
