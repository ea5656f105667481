"""The training loop (paper Sec. 4.2, authors' recipe): SGD + poly schedule, CE on the decode head +
focal loss on the auxiliary head.

One code path from a 2-core CPU (single process) to multi-GPU nodes (``torchrun``: DDP with per-GPU
BatchNorm as the authors, or SyncBN; optional mixed precision). Resumable: re-running the same
command continues from the last checkpoint, which holds model, optimizer, scheduler, scaler, RNG and
data-order state; on a CPU with a fixed seed a resumed run ends with the same weights as an
uninterrupted one.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import hashlib
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from crosscbam.errors import CheckpointError, ConfigError, PeerLost, TrainingDiverged, TrainingStopped
from crosscbam.io import exclusive_lock, write_text
from crosscbam.models import build_model, canonical_name
from crosscbam.models.init import set_bn_eps
from crosscbam.models.weights import load_mmseg_checkpoint, read_checkpoint
from crosscbam.provenance import provenance
from crosscbam.training.checkpoints import save_atomic
from crosscbam.training.config import TrainConfig
from crosscbam.training.losses import PaperLoss
from crosscbam.training.schedule import poly_lr

CHECKPOINT_NAME = "checkpoints/last.pth"
#: The checkpoint before the last one, kept so that a damaged last.pth (a node dying mid-copy) leaves a good state.
PREVIOUS_NAME = "checkpoints/previous.pth"
#: Signals a scheduler sends before it ends a job (SLURM: SIGTERM at preemption or the time limit, and
#: SIGUSR1 ahead of it with --signal=USR1@SECONDS); the run checkpoints at the end of the iteration and stops.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
#: How long a process waits in a collective for a peer that stopped answering (a dead node), in seconds.
PEER_TIMEOUT_S = 600
FINAL_NAME = "final.pth"
METRICS_NAME = "metrics.jsonl"


class EpochIndexed(Dataset):
    """Wrap a dataset so that a sampler can pass ``(epoch, index)``. The epoch travels with each
    key, never through state shared between DataLoader workers: a dataset with
    ``sample(index, epoch)`` gets it as an argument; another one gets ``set_epoch`` on the calling
    worker's own copy just before the item is read."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key: tuple[int, int]):
        epoch, index = key
        if hasattr(self.dataset, "sample"):
            return self.dataset.sample(index, epoch)
        if hasattr(self.dataset, "set_epoch"):
            self.dataset.set_epoch(epoch)
        return self.dataset[index]


class ResumableBatchSampler(Sampler):
    """Endless batches of ``(epoch, index)``; epoch e is a permutation seeded by (seed, e).

    ``batch_size`` is the global batch. The position is a pure function of the iteration, so
    resuming at iteration k replays nothing and skips nothing. Under DDP each rank takes its slice
    of every global batch.
    """

    def __init__(self, size: int, batch_size: int, seed: int, start_iteration: int, rank: int = 0, world_size: int = 1) -> None:
        if size < batch_size:
            raise ConfigError(f"the dataset has {size} samples, fewer than the batch size {batch_size}; lower batch_size or add data")
        if batch_size % world_size:
            raise ConfigError(f"batch_size {batch_size} is not divisible by the {world_size} processes")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start_iteration, self.rank, self.world_size = start_iteration, rank, world_size
        self.batches_per_epoch = size // batch_size

    def __iter__(self):
        iteration = self.start_iteration
        per_rank = self.batch_size // self.world_size
        while True:
            epoch, position = divmod(iteration, self.batches_per_epoch)
            order = torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 1_000_003 + epoch))
            batch = order[position * self.batch_size : (position + 1) * self.batch_size]
            yield [(epoch, int(i)) for i in batch[self.rank * per_rank : (self.rank + 1) * per_rank]]
            iteration += 1


def _distributed() -> tuple[int, int, int]:
    """(rank, local_rank, world_size); initialises the process group under torchrun."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo", timeout=datetime.timedelta(seconds=PEER_TIMEOUT_S))
    if world_size > 1:
        return dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0")), world_size
    return 0, 0, 1


def _sha256_prefix_check(path: Path) -> None:
    """MMSeg names checkpoints ``<name>-<first 8 hex digits of sha256>.pth``; verify that prefix."""
    match = re.search(r"-([0-9a-f]{8})\.pth$", path.name)
    if not match:
        return
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if not digest.startswith(match.group(1)):
        raise CheckpointError(f"pretrained checkpoint {path} has sha256 {digest[:8]}..., its name says {match.group(1)}; re-download it")


def _check_compiler() -> None:
    """compile_loss needs the C++ compiler torch.compile builds its kernels with: say so before training."""
    import os
    import shutil

    if not (os.environ.get("CXX") or any(shutil.which(name) for name in ("g++", "clang++", "c++"))):
        raise ConfigError("compile_loss=true needs a C++ compiler (g++ or clang++, or CXX) for torch.compile and none "
                          "is on PATH; install one (e.g. apt install g++) or set compile_loss=false (the same loss, slower)")


#: Decoded training images kept in memory when the training process loads them itself (no workers): real
#: CamVid's 367 at 360x480 take 0.25 GiB and save a decode per image per epoch (5 ms, against 100-200 ms of
#: step per image on 2 cores); a split larger than this decodes the rest every time.
DECODED_CACHE_BYTES = 1 << 30


def _build_dataset(config: TrainConfig) -> Dataset:
    from crosscbam.data import build_dataset
    from crosscbam.data.transforms import TrainTransform

    transform = TrainTransform(crop_size=config.crop_size, scale_range=config.scale_range, base_size=config.base_size,
                               cat_max_ratio=config.cat_max_ratio, flip_prob=config.flip_prob, photometric=config.photometric)
    return build_dataset(config.dataset, Path(config.data_root), config.train_split, transform=transform, seed=config.seed,
                         cache_bytes=DECODED_CACHE_BYTES if config.workers == 0 else 0)


def make_loader(dataset: Dataset, config: TrainConfig, start_iteration: int = 0, rank: int = 0, world_size: int = 1,
                pin_memory: bool = False) -> DataLoader:
    """Endless ``(images, labels)`` batches of ``config.batch_size`` images per process, from
    ``start_iteration`` on; the same batches whatever ``config.workers``."""
    sampler = ResumableBatchSampler(len(dataset), config.batch_size * world_size, config.seed, start_iteration, rank, world_size)
    # An explicit generator keeps the DataLoader from drawing on the global RNG (dropout's), which
    # would make a resumed run diverge from an uninterrupted one.
    return DataLoader(EpochIndexed(dataset), batch_sampler=sampler, num_workers=config.workers, pin_memory=pin_memory,
                      generator=torch.Generator().manual_seed(config.seed), persistent_workers=config.workers > 0)


def _num_classes(dataset_name: str) -> int:
    from crosscbam.data import DATASETS

    return DATASETS[dataset_name].num_classes


#: A probe of the activation memory runs at this many pixels (or the crop, if smaller) and is scaled.
_PROBE_PIXELS = 64 * 128
#: Training holds about this many times the forward outputs: the outputs, their gradients and the
#: inputs autograd saves. Calibrated on a CPU (M1, SGD, PaperLoss): the peak RSS grows by 0.52 GiB at
#: batch 2 x 256x512 and 1.59 GiB at batch 2 x 512x1024; this factor estimates 0.55 and 1.79 GiB.
_ACTIVATION_FACTOR = 3


def expected_memory(model: nn.Module, config: TrainConfig) -> int:
    """Bytes one training process needs, estimated before training: weights, gradients and SGD
    momentum (3 copies of the parameters), plus the forward outputs of every module times
    ``_ACTIVATION_FACTOR``, measured at a small probe size and scaled to ``batch_size`` x the crop."""
    crop = config.crop_size[0] * config.crop_size[1]
    scale = max(1.0, (crop / _PROBE_PIXELS) ** 0.5)
    probe = (max(32, round(config.crop_size[0] / scale) // 32 * 32), max(32, round(config.crop_size[1] / scale) // 32 * 32))
    activations = 0

    def count(module: nn.Module, inputs: object, output: object) -> None:
        nonlocal activations
        for tensor in output if isinstance(output, (tuple, list)) else [output]:
            if isinstance(tensor, torch.Tensor):
                activations += tensor.numel() * tensor.element_size()

    probe_model = copy.deepcopy(model).train()  # a copy: the probe must not move BatchNorm statistics
    for module in probe_model.modules():
        if not list(module.children()):
            module.register_forward_hook(count)
    with torch.no_grad():  # two images: BatchNorm after global pooling (SPPM, DAPPM) needs more than one value
        probe_model(torch.zeros(2, 3, *probe))
    parameters = sum(p.numel() * p.element_size() for p in model.parameters())
    return int(3 * parameters + _ACTIVATION_FACTOR * activations / 2 * config.batch_size * crop / (probe[0] * probe[1]))


def available_memory(device: torch.device) -> int:
    """Bytes free for one training process on ``device`` (CPU: memory available to new processes)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    import psutil

    return psutil.virtual_memory().available


def check_memory(model: nn.Module, config: TrainConfig, device: torch.device) -> None:
    """Refuse a run that cannot fit before it starts, naming the settings to lower."""
    need, have = expected_memory(model, config), available_memory(device)
    if need > have:
        raise ConfigError(
            f"training {config.variant} with batch_size {config.batch_size} at crop {config.crop_size[0]}x{config.crop_size[1]} "
            f"needs about {need / 2**30:.1f} GiB, {device.type} has {have / 2**30:.1f} GiB free; lower batch_size or crop_size, "
            "or use more GPUs (torchrun)"
        )


def data_identity(config: TrainConfig) -> str:
    """A short hash of the prepared tree's listing in its data card (names, file counts, sizes), after
    checking that the tree still matches it: a run is trained on one dataset, never a mix."""
    from crosscbam.data.card import check_card

    card = check_card(Path(config.data_root), config.dataset)
    return hashlib.sha256(json.dumps(card["tree"], sort_keys=True).encode()).hexdigest()[:12]


def _check_output(out: Path, config_hash: str, data: str | None, world_size: int) -> dict | None:
    """The resumable checkpoint of the same run (configuration, data, processes), or None; refuse another run's."""
    for name in (FINAL_NAME, CHECKPOINT_NAME):
        path = out / name
        if path.exists():
            checkpoint = _read_or_offer_previous(out, path)
            if checkpoint.get("config_hash") != config_hash:
                raise ConfigError(
                    f"{out} holds a run with another configuration ({path.name}: config {checkpoint.get('config_hash')}, "
                    f"this run: {config_hash}); choose another --out or remove it"
                )
            if checkpoint.get("data_identity") != data:
                raise ConfigError(
                    f"{out} holds a run on other data ({path.name}: data {checkpoint.get('data_identity')}, --data-root "
                    f"now: {data}); choose another --out, or the data root it was trained on"
                )
            if checkpoint.get("world_size", 1) != world_size:
                raise ConfigError(
                    f"{out} holds a run of {checkpoint.get('world_size', 1)} processes, this one has {world_size}: the global "
                    "batch would change; resume with the same number of processes or choose another --out"
                )
            return checkpoint
    return None


def _read_or_offer_previous(out: Path, path: Path) -> dict:
    """A run's checkpoint; a damaged one is a one-line error that offers the previous good state, if kept."""
    try:
        return read_checkpoint(path)
    except CheckpointError as damaged:
        previous = out / PREVIOUS_NAME
        why = str(damaged).split(" cannot be read ", 1)[-1].split(";", 1)[0]
        try:
            iteration = read_checkpoint(previous)["iteration"] if path.name != FINAL_NAME and previous.exists() else None
        except (CheckpointError, KeyError):
            iteration = None
        if iteration is not None:
            raise CheckpointError(f"{path} is damaged {why}; the previous checkpoint {previous} (iteration {iteration}) is intact: "
                                  f"`mv {previous} {path}` and re-run to resume from it") from None
        raise CheckpointError(f"{path} is damaged {why} and no earlier checkpoint is kept; remove it to start the run over "
                              "(nothing was changed)") from None


@contextlib.contextmanager
def stop_requests():
    """While the block runs, SIGTERM and SIGUSR1 do not end the process: they are recorded (their names,
    in the yielded list) so the training loop can finish its iteration, checkpoint and stop."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():  # signal handlers live on the main thread
        yield received
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

    def record(number, frame) -> None:
        received.append(signal.Signals(number).name)

    for number in STOP_SIGNALS:
        signal.signal(number, record)
    try:
        yield received
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _peer_failure(error: RuntimeError) -> bool:
    """Whether a collective failed because another process is gone: c10d's own error types, or gloo's and
    NCCL's errors, which the DDP reducer raises as plain RuntimeErrors."""
    return isinstance(error, dist.DistError) or bool(re.search(r"gloo|nccl|connection (reset|closed|refused)|timed out", str(error), re.I))


def _agreed(flag: bool, world_size: int) -> bool:
    """Whether any process raised ``flag``: every rank gets the same answer at the same iteration."""
    if world_size == 1:
        return flag
    value = torch.tensor([int(flag)])
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def train(config: TrainConfig, dataset: Dataset | None = None, num_classes: int | None = None) -> Path:
    """Train (or resume, or find complete) the run described by ``config``; return ``final.pth``.

    Args:
        config: a validated :class:`TrainConfig`.
        dataset: the training set; built from ``config`` when omitted (tests inject small ones).
        num_classes: defaults to the dataset's.
    """
    config.validate()
    variant = canonical_name(config.variant)
    if dataset is None and not Path(config.data_root).is_dir():
        raise ConfigError(f"data root {config.data_root} does not exist; prepare the data first (crosscbam data ...)")
    rank, local_rank, world_size = _distributed()
    out = Path(config.out)
    with contextlib.ExitStack() as held:
        if rank == 0:  # one writer per run directory: a second process fails at once, naming the holder
            held.enter_context(exclusive_lock(out, "training run"))
        stops = held.enter_context(stop_requests())
        try:
            return _train(config, variant, out, rank, local_rank, world_size, dataset, num_classes, stops)
        except RuntimeError as error:  # a peer died (its sockets closed) or stopped answering (timeout)
            if world_size == 1 or not _peer_failure(error):
                raise
            others = f"rank {1 - rank}" if world_size == 2 else f"one of the other {world_size - 1} ranks"
            text = re.sub(r"^\[[^\]]*\]\s*", "", str(error).strip().splitlines()[0]) if str(error).strip() else type(error).__name__
            first = text.split(". ", 1)[0][:120]
            raise PeerLost(f"rank {rank} stopped: {others} of the {world_size}-process job is gone ({first}); "
                           f"re-run the job to resume from {out / CHECKPOINT_NAME}") from None


@dataclasses.dataclass
class Run:
    """What one training process holds: the network (DDP-wrapped when distributed), its optimizer, lr
    schedule and loss scaler, and where it stands (iteration, step time)."""

    config: TrainConfig
    variant: str
    classes: int
    device: torch.device
    layout: torch.memory_format
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler
    criterion: PaperLoss
    world_size: int
    iteration: int = 0
    elapsed: float = 0.0

    @property
    def network(self) -> nn.Module:
        """The network itself (without its DDP wrapper)."""
        return self.model.module if self.world_size > 1 else self.model

    def step(self, images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict, float]:
        """One SGD step on a batch; returns the loss, its parts and the lr it used."""
        config = self.config
        images = images.to(self.device, non_blocking=True).contiguous(memory_format=self.layout)
        labels = labels.to(self.device, non_blocking=True)
        # Mixed precision: float16 with a loss scaler on CUDA; bfloat16 on a CPU (same autocast path, no
        # scaler needed: bfloat16 has float32's exponent range).
        amp_dtype = torch.float16 if self.device.type == "cuda" else torch.bfloat16
        with torch.autocast(self.device.type, dtype=amp_dtype, enabled=config.amp):
            main, aux = self.model(images)
        # the model returns logits already resized to the crop (= label) size; the loss's own resize
        # is then the identity, so this equals the authors' loss on the raw head outputs
        loss, parts = self.criterion(main.float(), None if aux is None else aux.float(), labels)
        if not torch.isfinite(loss):
            raise TrainingDiverged(f"loss is {loss.item()} at iteration {self.iteration}; lower lr (now {self.scheduler.get_last_lr()[0]:.3g})")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        lr = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        self.iteration += 1
        return loss, parts, lr

    def snapshot(self, final: bool, config_hash: str, data: str | None) -> dict:
        """The checkpoint record: weights and where the run stands; a resumable one adds optimizer, schedule,
        scaler and RNG state, a final one the provenance."""
        config = self.config
        record = {"model": self.network.state_dict(), "variant": self.variant, "dataset": config.dataset, "num_classes": self.classes,
                  "config": json.loads(json.dumps(dataclasses.asdict(config), default=list)), "config_hash": config_hash,
                  "data_identity": data, "world_size": self.world_size, "iteration": self.iteration, "elapsed_s": self.elapsed}
        if final:
            return {**record, "provenance": provenance()}
        cuda_rng = torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None
        return {**record, "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(), "rng": {"torch": torch.get_rng_state(), "cuda": cuda_rng}}

    def resume(self, previous: dict) -> None:
        """Continue from a resumable checkpoint (:meth:`snapshot`)."""
        self.network.load_state_dict(previous["model"])
        self.optimizer.load_state_dict(previous["optimizer"])
        self.scheduler.load_state_dict(previous["scheduler"])
        self.scaler.load_state_dict(previous["scaler"])
        torch.set_rng_state(previous["rng"]["torch"])
        if self.device.type == "cuda" and previous["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(previous["rng"]["cuda"], self.device)
        self.iteration, self.elapsed = previous["iteration"], previous["elapsed_s"]


def build_run(config: TrainConfig, variant: str, classes: int, local_rank: int, world_size: int) -> Run:
    """The network (seeded, BN eps as the authors, optional pretrained backbone) on its device, wrapped for
    DDP when distributed, with SGD, the poly schedule with warm-up, the loss scaler and the paper's loss."""
    device = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(config.seed)
    model = build_model(variant, classes)
    set_bn_eps(model, config.bn_eps)
    check_memory(model, config, device)  # no RNG drawn: a resumed run stays bit-identical
    if config.pretrained:
        pretrained = Path(config.pretrained)
        _sha256_prefix_check(pretrained)
        load_mmseg_checkpoint(model, pretrained)
    model.to(device)
    layout = torch.channels_last if config.channels_last else torch.contiguous_format
    model.to(memory_format=layout)
    if world_size > 1:
        if config.sync_bn:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    schedule = dict(base_lr=config.lr, max_iters=config.iterations, power=config.power, min_lr=config.min_lr,
                    warmup_iters=config.warmup_iters, warmup_ratio=config.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda it: poly_lr(it, **schedule) / config.lr)
    scaler = torch.amp.GradScaler(device.type, enabled=config.amp and device.type == "cuda")
    if config.compile_loss:
        _check_compiler()
    criterion = PaperLoss(config.main_loss_weight, config.aux_loss_weight, config.focal_gamma, config.focal_alpha,
                          compiled=config.compile_loss)
    return Run(config, variant, classes, device, layout, model, optimizer, scheduler, scaler, criterion, world_size)


class Validation:
    """val mIoU of a run's current weights (rank 0; BN in eval mode, no random numbers drawn); the val set
    is read once, on first use."""

    def __init__(self, run: Run) -> None:
        self.run, self.samples = run, None

    def __call__(self) -> float:
        from crosscbam.data import build_dataset
        from crosscbam.data.transforms import EvalTransform
        from crosscbam.evaluation import confusion

        config = self.run.config
        if self.samples is None:
            self.samples = build_dataset(config.dataset, config.data_root, "val", transform=EvalTransform(None))
        return confusion(self.run.network, self.samples, self.run.classes, self.run.device, desc="val", progress=config.progress).miou()


def _train(config: TrainConfig, variant: str, out: Path, rank: int, local_rank: int, world_size: int,
           dataset: Dataset | None, num_classes: int | None, stops: list[str] | None = None) -> Path:
    config_hash = config.config_hash()
    data = data_identity(config) if dataset is None else None
    previous = _check_output(out, config_hash, data, world_size)
    if previous is not None and "optimizer" not in previous:
        return out / FINAL_NAME  # complete already
    dataset = dataset if dataset is not None else _build_dataset(config)
    run = build_run(config, variant, num_classes or _num_classes(config.dataset), local_rank, world_size)
    if previous is not None:
        run.resume(previous)

    metrics_path = out / METRICS_NAME
    log: list[str] = []  # the log's lines, kept here too: they travel with each checkpoint whatever happens to the file
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        log = _restore_metrics(metrics_path, run.iteration, (previous or {}).get("metrics"))
        write_text(json.dumps({**dataclasses.asdict(config), "config_hash": config_hash, "data_identity": data}, indent=2, default=list) + "\n",
                   out / "config.json")

    def save(final: bool = False) -> None:
        if final:
            save_atomic(run.snapshot(True, config_hash, data), out / FINAL_NAME)
        else:  # the log so far travels with the checkpoint: a workflow re-run may delete metrics.jsonl (a job output)
            record = {**run.snapshot(False, config_hash, data), "metrics": list(log)}
            save_atomic(record, out / CHECKPOINT_NAME, previous=out / PREVIOUS_NAME)

    loader = make_loader(dataset, config, run.iteration, rank, world_size, pin_memory=run.device.type == "cuda")
    validate = Validation(run)
    progress = _progress_bar(config, run.iteration, rank)
    run.model.train()
    window_start, window_images = time.perf_counter(), 0
    batches = iter(loader)
    while run.iteration < config.iterations:
        step_start = time.perf_counter()
        images, labels = next(batches)
        loss, parts, lr = run.step(images, labels)
        iteration = run.iteration
        run.elapsed += time.perf_counter() - step_start
        window_images += images.shape[0] * world_size
        if rank == 0:
            rate = window_images / max(time.perf_counter() - window_start, 1e-9)
            progress.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.2e}", img_s=f"{rate:.1f}", refresh=False)
            progress.update(1)
            if iteration % config.log_every == 0 or iteration == config.iterations:
                _append_metrics(metrics_path, log, {"iteration": iteration, "loss": loss.item(), **parts, "lr": lr,
                                                    "images_per_s": rate, "elapsed_s": run.elapsed})
                window_start, window_images = time.perf_counter(), 0
            if config.val_every and (iteration % config.val_every == 0 or iteration == config.iterations):
                _append_metrics(metrics_path, log, {"iteration": iteration, "val_miou": validate(), "elapsed_s": run.elapsed})
            if iteration % config.checkpoint_every == 0 and iteration < config.iterations:
                save()
        if _agreed(bool(stops), world_size) and iteration < config.iterations:
            if rank == 0:
                save()
            if world_size > 1:
                dist.barrier()
            progress.close()
            signal_name = stops[0] if stops else "a signal to another process"
            raise TrainingStopped(f"stopped by {signal_name} after iteration {iteration} of {config.iterations}: checkpoint "
                                  f"{out / CHECKPOINT_NAME} saved; re-run the same command to resume")
    progress.close()
    if rank == 0:
        save(final=True)
        (out / CHECKPOINT_NAME).unlink(missing_ok=True)
        (out / PREVIOUS_NAME).unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the folder of the resumable checkpoint, now empty
            (out / CHECKPOINT_NAME).parent.rmdir()
    if world_size > 1:
        dist.barrier()
    return out / FINAL_NAME


def _progress_bar(config: TrainConfig, start: int, rank: int):
    from tqdm import tqdm

    return tqdm(total=config.iterations, initial=start, desc=f"train {config.variant}/{config.dataset}",
                disable=rank != 0 or not config.progress, unit="it", dynamic_ncols=True)


def _append_metrics(path: Path, log: list[str], record: dict) -> None:
    """One line more in ``log`` and in the file; a file deleted under the run (a workflow re-run removing a
    job's outputs) is written again whole."""
    log.append(json.dumps(record))
    if path.exists():
        with path.open("a") as stream:
            stream.write(log[-1] + "\n")
    else:
        write_text("".join(line + "\n" for line in log), path)


def _restore_metrics(path: Path, iteration: int, saved: list[str] | None) -> list[str]:
    """The log as it stood at the resumed ``iteration``: the lines saved with the checkpoint where it has them
    (Snakemake deletes an interrupted job's outputs, metrics.jsonl among them, before re-running it), else
    the file's own lines up to that iteration; lines past it (written by a run killed after them) and a
    last line torn by the kill are dropped."""
    lines = saved if saved is not None else (path.read_text().splitlines() if path.exists() else [])
    if not lines and not path.exists():
        return []
    kept = []
    for line in lines:
        try:
            if json.loads(line)["iteration"] <= iteration:
                kept.append(line)
        except (ValueError, KeyError, TypeError):  # a line torn by a kill mid-write: dropped
            continue
    write_text("".join(line + "\n" for line in kept), path)
    return kept

