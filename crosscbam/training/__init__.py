"""Training under the paper's protocol (Sec. 4.2): config, loss, schedule, loop, checkpoints."""

from crosscbam.training.config import PRESETS, TrainConfig, make_config
from crosscbam.training.trainer import train

__all__ = ["PRESETS", "TrainConfig", "make_config", "train"]
