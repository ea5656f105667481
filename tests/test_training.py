import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
import yaml

from crosscbam.training import make_config, train
from crosscbam.training.trainer import ResumableBatchSampler

sys.path.insert(0, str(Path(__file__).parent))
from training_helpers import BlobDataset  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def tiny_config(out, **overrides):
    settings = ["iterations=6", "batch_size=2", "checkpoint_every=2", "log_every=1", "lr=0.01", "warmup_iters=0", "progress=false"]
    settings += [f"{k}={v}" for k, v in overrides.items()]
    return make_config("M1-c128", "cityscapes", str(out), str(out), preset="smoke", seed=3, overrides=settings)


def weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


def test_sampler_position_is_a_function_of_the_iteration():
    full = ResumableBatchSampler(10, 4, seed=1, start_iteration=0)
    batches = [b for _, b in zip(range(7), full)]
    resumed = ResumableBatchSampler(10, 4, seed=1, start_iteration=4)
    assert [b for _, b in zip(range(3), resumed)] == batches[4:]
    assert batches[0][0][0] == 0 and batches[2][0][0] == 1  # 2 batches per epoch, then epoch 1
    assert len({i for _, i in batches[0] + batches[1]}) == 8  # no repeats within an epoch


def test_sampler_refuses_a_dataset_smaller_than_a_batch():
    with pytest.raises(ValueError, match="fewer than the batch size"):
        ResumableBatchSampler(3, 4, seed=0, start_iteration=0)


def test_training_writes_metrics_and_a_final_checkpoint(tmp_path):
    final = train(tiny_config(tmp_path / "run"), dataset=BlobDataset(), num_classes=2)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in lines] == [1, 2, 3, 4, 5, 6]
    assert {"loss", "loss_ce", "loss_focal", "lr", "images_per_s"} <= set(lines[0])
    assert lines[0]["lr"] > lines[-1]["lr"]
    checkpoint = torch.load(final, map_location="cpu", weights_only=True)
    assert checkpoint["variant"] == "M1-c128" and checkpoint["iteration"] == 6 and "optimizer" not in checkpoint
    assert not (tmp_path / "run" / "checkpoints" / "last.pth").exists()
    before = final.stat().st_mtime_ns
    assert train(tiny_config(tmp_path / "run"), dataset=BlobDataset(), num_classes=2) == final  # complete: no-op
    assert final.stat().st_mtime_ns == before


def mmcv_poly(iteration: int, max_iters: int, base_lr: float = 0.01, min_lr: float = 1e-4, power: float = 0.9) -> float:
    """mmcv 1.5 PolyLrUpdaterHook.get_lr (authors' schedule, no warm-up), iteration 0-based."""
    return (base_lr - min_lr) * (1 - iteration / max_iters) ** power + min_lr


def test_every_iteration_uses_the_authors_poly_schedule(tmp_path):
    config = tiny_config(tmp_path / "run", iterations=7, lr=0.01, min_lr=1e-4, warmup_iters=0)
    seen = []
    original_step = torch.optim.SGD.step

    def record(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original_step(self, *args, **kwargs)

    torch.optim.SGD.step = record
    try:
        train(config, dataset=BlobDataset(), num_classes=2)
    finally:
        torch.optim.SGD.step = original_step
    expected = [mmcv_poly(i, 7) for i in range(7)]
    assert seen == pytest.approx(expected, rel=1e-12)
    logged = [json.loads(line)["lr"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert logged == pytest.approx(expected, rel=1e-12)


AUTHORS = yaml.safe_load((REPO / "crosscbam" / "authors_code.yaml").read_text())["recipe"]


def test_full_preset_is_the_authors_recipe(tmp_path):
    config = make_config("M1", "cityscapes", str(tmp_path), str(tmp_path / "out"), preset="full")
    fact = {key: entry["value"] for key, entry in AUTHORS.items()}
    assert (config.main_loss_weight, config.aux_loss_weight) == (fact["loss_decode_weight"], fact["loss_auxiliary_weight"])
    assert (config.focal_gamma, config.focal_alpha) == (fact["focal_gamma"], fact["focal_alpha"])
    assert (config.lr, config.momentum, config.weight_decay) == (fact["lr"], fact["momentum"], fact["weight_decay"])
    assert (config.power, config.min_lr, config.warmup_iters) == (fact["poly_power"], fact["min_lr"], fact["warmup_iters"])
    assert config.iterations == fact["iterations"] and config.batch_size == fact["batch_per_gpu"]
    assert list(config.crop_size) == fact["crop_size"] and list(config.base_size) == fact["resize_base"]
    assert list(config.scale_range) == fact["resize_ratio"] and config.cat_max_ratio == fact["cat_max_ratio"]
    assert config.flip_prob == fact["flip_prob"] and config.photometric
    assert config.bn_eps == fact["bn_eps"] and not config.sync_bn and not config.amp
    assert config.pretrained is fact["pretrained"] is None and config.train_split == fact["train_split"]
    camvid = make_config("camvid-M", "camvid", str(tmp_path), str(tmp_path / "out"), preset="full")
    assert camvid.train_split == "trainval"


def test_print_config_shows_the_resolved_configuration(tmp_path):
    command = [sys.executable, "-m", "crosscbam", "train", "--variant", "M1", "--dataset", "cityscapes", "--data-root",
               str(tmp_path / "absent"), "--out", str(tmp_path / "out"), "--preset", "full", "--print-config", "--set", "seed=4"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
    printed = json.loads(result.stdout)
    expected = make_config("M1", "cityscapes", str(tmp_path / "absent"), str(tmp_path / "out"), preset="full", overrides=["seed=4"])
    assert printed["config_hash"] == expected.config_hash() and printed["lr"] == 0.01 and printed["seed"] == 4
    assert not (tmp_path / "out").exists()


def test_bn_eps_reaches_the_model_and_its_checkpoint(tmp_path):
    from crosscbam.models.weights import load_model

    final = train(tiny_config(tmp_path / "run", iterations=1, bn_eps=1e-5), dataset=BlobDataset(), num_classes=2)
    model, _ = load_model(None, final)
    assert {m.eps for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)} == {1e-5}


def test_training_learns_the_blob_task(tmp_path):
    config = tiny_config(tmp_path / "run", iterations=30, lr=0.05, warmup_iters=0)
    final = train(config, dataset=BlobDataset(size=8), num_classes=2)
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert sum(r["loss"] for r in lines[-5:]) < 0.5 * sum(r["loss"] for r in lines[:5])
    assert final.exists()


def test_an_output_of_another_run_is_never_overwritten(tmp_path):
    train(tiny_config(tmp_path / "run"), dataset=BlobDataset(), num_classes=2)
    content = (tmp_path / "run" / "final.pth").read_bytes()
    with pytest.raises(ValueError, match="another configuration"):
        train(tiny_config(tmp_path / "run", lr=0.02), dataset=BlobDataset(), num_classes=2)
    assert (tmp_path / "run" / "final.pth").read_bytes() == content


@pytest.mark.parametrize("override, message", [("iterations=-5", "iterations must be a positive"),
                                               ("lr=abc", "cannot read 'abc'"), ("speed=3", "key one of")])
def test_bad_settings_are_one_line_errors(tmp_path, override, message):
    with pytest.raises(ValueError, match=message):
        make_config("M1", "cityscapes", str(tmp_path), str(tmp_path / "out"), overrides=[override])
    assert not (tmp_path / "out").exists()


def test_missing_data_root_is_reported_before_anything_is_written(tmp_path):
    config = make_config("M1", "cityscapes", str(tmp_path / "absent"), str(tmp_path / "out"))
    with pytest.raises(ValueError, match="data root .*absent does not exist"):
        train(config)
    assert not (tmp_path / "out").exists()


SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {tests!r})
    from training_helpers import BlobDataset
    from crosscbam.training import make_config, train
    config = make_config("M1-c128", "cityscapes", {out!r}, {out!r}, preset="smoke", seed=3,
                         overrides=["iterations=10", "batch_size=2", "checkpoint_every=2", "log_every=1", "progress=false"])
    train(config, dataset=BlobDataset(), num_classes=2)
""")


def run_script(out: Path) -> subprocess.Popen:
    script = SCRIPT.format(tests=str(Path(__file__).parent), out=str(out))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", script], env=env, cwd=REPO)


def test_sigkill_then_rerun_ends_with_the_uninterrupted_weights(tmp_path):
    reference = run_script(tmp_path / "reference")
    assert reference.wait(timeout=300) == 0

    interrupted = run_script(tmp_path / "resumed")
    checkpoint = tmp_path / "resumed" / "checkpoints" / "last.pth"
    deadline = time.time() + 300
    while not checkpoint.exists() and interrupted.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    assert interrupted.poll() is None, "the run finished before it could be killed"
    interrupted.send_signal(signal.SIGKILL)
    interrupted.wait()
    assert not (tmp_path / "resumed" / "final.pth").exists()
    resumed_from = torch.load(checkpoint, map_location="cpu", weights_only=True)["iteration"]
    assert 2 <= resumed_from < 10

    assert run_script(tmp_path / "resumed").wait(timeout=300) == 0
    ours, theirs = weights(tmp_path / "resumed" / "final.pth"), weights(tmp_path / "reference" / "final.pth")
    assert ours.keys() == theirs.keys()
    assert all(torch.equal(ours[k], theirs[k]) for k in ours), "resumed weights differ from the uninterrupted run"
    logged = [json.loads(line)["iteration"] for line in (tmp_path / "resumed" / "metrics.jsonl").read_text().splitlines()]
    assert logged == list(range(1, 11))


def test_presets_have_one_home_the_configuration_file(tmp_path):
    """`crosscbam train --preset` reads the workflow's config/config.yaml: a preset added there trains,
    an unknown one or an unknown field is a one-line error naming the file."""
    from crosscbam.errors import ConfigError

    config = tmp_path / "config.yaml"
    config.write_text("presets:\n  tiny:\n    train:\n      recipe:\n        cityscapes: {iterations: 3, crop_size: [64, 128]}\n")
    tiny = make_config("M1", "cityscapes", "-", "-", preset="tiny", config_file=str(config))
    assert tiny.iterations == 3 and tiny.crop_size == (64, 128) and tiny.lr == 0.01  # the rest: the authors' recipe
    with pytest.raises(ConfigError, match="unknown preset 'full' in .*config.yaml; expected one of tiny"):
        make_config("M1", "cityscapes", "-", "-", preset="full", config_file=str(config))
    config.write_text("presets:\n  tiny:\n    train:\n      recipe:\n        cityscapes: {iteration: 3}\n")
    with pytest.raises(ConfigError, match="unknown training fields iteration"):
        make_config("M1", "cityscapes", "-", "-", preset="tiny", config_file=str(config))


def test_the_default_preset_is_the_configurations_own(tmp_path):
    """No preset named: the configuration's `preset:` (its one home), not a default written in the code."""
    from crosscbam.errors import ConfigError

    config = tmp_path / "config.yaml"
    config.write_text("preset: tiny\npresets:\n  tiny:\n    train:\n      recipe:\n        cityscapes: {iterations: 3}\n")
    tiny = make_config("M1", "cityscapes", "-", "-", config_file=str(config))
    assert tiny.preset == "tiny" and tiny.iterations == 3
    config.write_text("presets:\n  tiny:\n    train:\n      recipe:\n        cityscapes: {iterations: 3}\n")
    with pytest.raises(ConfigError, match="names no default `preset:`"):
        make_config("M1", "cityscapes", "-", "-", config_file=str(config))


def test_settings_from_the_workflow_arrive_once_typed_and_give_the_presets_run(tmp_path):
    """The workflow passes a job's resolved settings as one JSON object (`--settings`), not stringified
    `--set`s parsed back: the run is the same as the preset's own recipe (same config hash), integers
    written for float fields do not change it, and a bad object is a one-line error."""
    from crosscbam.errors import ConfigError
    from crosscbam.presets import settings

    preset = make_config("camvid-M", "camvid", "-", "-", preset="cpu", seed=1)
    passed = json.loads(json.dumps(settings("cpu", "camvid")))  # as the workflow's JSON carries it: lists, not tuples
    from_settings = make_config("camvid-M", "camvid", "-", "-", preset="cpu", seed=1, settings=passed)
    assert from_settings == preset and from_settings.config_hash() == preset.config_hash()
    as_ints = make_config("camvid-M", "camvid", "-", "-", preset="cpu", seed=1, settings={**passed, "scale_range": [1, 2]})
    assert as_ints.scale_range == (1.0, 2.0) and as_ints.config_hash() == make_config(
        "camvid-M", "camvid", "-", "-", preset="cpu", seed=1, settings={**passed, "scale_range": [1.0, 2.0]}).config_hash()
    with pytest.raises(ConfigError, match="--settings sets unknown training fields iteration"):
        make_config("camvid-M", "camvid", "-", "-", preset="cpu", settings={"iteration": 3})
    command = [sys.executable, "-m", "crosscbam", "train", "--variant", "M1", "--dataset", "cityscapes", "--data-root", "-",
               "--out", str(tmp_path / "out"), "--print-config"]
    printed = subprocess.run([*command, "--settings", '{"iterations": 7, "crop_size": [64, 128]}'], capture_output=True,
                             text=True, cwd=REPO, check=True)
    assert json.loads(printed.stdout)["iterations"] == 7 and json.loads(printed.stdout)["crop_size"] == [64, 128]
    bad = subprocess.run([*command, "--settings", "iterations=7"], capture_output=True, text=True, cwd=REPO)
    assert bad.returncode != 0 and "--settings is not JSON" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_a_second_trainer_on_the_same_out_fails_at_once_naming_the_holder(tmp_path):
    from crosscbam.errors import CrossCBAMError
    from crosscbam.io import exclusive_lock

    out = tmp_path / "run"
    with exclusive_lock(out, "training run"), pytest.raises(CrossCBAMError, match=f"in use by another training run \\(PID {os.getpid()}"):
        train(tiny_config(out, iterations=1), dataset=BlobDataset(), num_classes=2)
    assert not (out / "final.pth").exists()


def test_the_data_is_part_of_a_runs_identity(tmp_path):
    """A finished (or killed) run is never returned for, or resumed on, another dataset tree."""
    from crosscbam.cli import main
    from crosscbam.errors import ConfigError

    for name, seed in (("a", "0"), ("b", "1")):
        assert main(["data", "synth", "cityscapes", "--out", str(tmp_path / name), "--n-train", "2", "--n-val", "1",
                     "--n-test", "0", "--size", "64", "128", "--seed", seed]) == 0
    settings = ["iterations=1", "batch_size=2", "crop_size=64x128", "base_size=64x128", "progress=false"]
    run = tmp_path / "run"
    config = make_config("M1-c128", "cityscapes", str(tmp_path / "a"), str(run), preset="smoke", overrides=settings)
    final = train(config)
    assert torch.load(final, weights_only=True)["data_identity"]
    other = make_config("M1-c128", "cityscapes", str(tmp_path / "b"), str(run), preset="smoke", overrides=settings)
    with pytest.raises(ConfigError, match="holds a run on other data"):
        train(other)
    assert train(config) == final  # the same data: found complete


def test_a_torn_metrics_line_does_not_block_a_resume(tmp_path):
    from crosscbam.training.trainer import _restore_metrics

    path = tmp_path / "metrics.jsonl"
    path.write_text('{"iteration": 2, "loss": 1.0}\n{"iteration": 4, "loss": 0.9}\n{"iteration": 6, "lo')
    _restore_metrics(path, 4, None)
    assert path.read_text() == '{"iteration": 2, "loss": 1.0}\n{"iteration": 4, "loss": 0.9}\n'


def test_the_log_survives_a_workflow_deleting_it_before_the_resume(tmp_path, monkeypatch):
    """Snakemake deletes an interrupted job's outputs (metrics.jsonl) before re-running it: the resumed run
    restores the log up to its checkpoint from the checkpoint, so the finished log equals an uninterrupted one's."""
    from crosscbam.training import trainer

    def logged(path):
        return [{k: v for k, v in json.loads(line).items() if k not in ("elapsed_s", "images_per_s")} for line in path.read_text().splitlines()]

    whole = tmp_path / "whole"
    train(tiny_config(whole), dataset=BlobDataset(), num_classes=2)
    step = trainer.Run.step

    def killed_after_four(run, images, labels):
        if run.iteration == 5:
            raise KeyboardInterrupt  # the job is killed: the checkpoint of iteration 4 is the last one
        return step(run, images, labels)

    broken = tmp_path / "broken"
    monkeypatch.setattr(trainer.Run, "step", killed_after_four)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(broken), dataset=BlobDataset(), num_classes=2)
    monkeypatch.setattr(trainer.Run, "step", step)
    assert len(logged(broken / "metrics.jsonl")) == 5
    (broken / "metrics.jsonl").unlink()  # what `snakemake --rerun-incomplete` does first
    train(tiny_config(broken), dataset=BlobDataset(), num_classes=2)
    assert logged(broken / "metrics.jsonl") == logged(whole / "metrics.jsonl") and len(logged(whole / "metrics.jsonl")) == 6


def test_the_log_survives_being_deleted_under_a_running_training(tmp_path, monkeypatch):
    """A workflow re-run deletes metrics.jsonl while the old training still runs (it was orphaned, or is
    saving on a stop): the checkpoints it saves next keep the whole log, and the file comes back whole."""
    from crosscbam.training import trainer

    def logged(path):
        return [{k: v for k, v in json.loads(line).items() if k not in ("elapsed_s", "images_per_s")} for line in path.read_text().splitlines()]

    whole = tmp_path / "whole"
    train(tiny_config(whole), dataset=BlobDataset(), num_classes=2)
    run, saved, save_atomic = tmp_path / "run", [], trainer.save_atomic

    def deleting_first(record, path, **kwargs):
        if "metrics" in record:  # a resumable checkpoint (not the final weights)
            (run / "metrics.jsonl").unlink(missing_ok=True)
            saved.append(len(record["metrics"]))
        return save_atomic(record, path, **kwargs)

    monkeypatch.setattr(trainer, "save_atomic", deleting_first)
    train(tiny_config(run), dataset=BlobDataset(), num_classes=2)
    assert saved == [2, 4]  # the checkpoints of iterations 2 and 4 carry the log so far, the file gone or not
    assert logged(run / "metrics.jsonl") == logged(whole / "metrics.jsonl")  # written again whole after each deletion
    monkeypatch.setattr(trainer, "save_atomic", save_atomic)


def test_evaluating_an_unfinished_checkpoint_says_which_iteration_it_holds(tmp_path, capsys):
    from crosscbam.cli import main

    assert main(["data", "synth", "cityscapes", "--out", str(tmp_path / "data"), "--n-train", "2", "--n-val", "1",
                 "--n-test", "0", "--size", "64", "128", "--seed", "0"]) == 0
    run = tmp_path / "run"
    settings = ["iterations=4", "checkpoint_every=2", "batch_size=2", "crop_size=64x128", "base_size=64x128", "progress=false"]
    config = make_config("M1-c128", "cityscapes", str(tmp_path / "data"), str(run), preset="smoke", overrides=settings)
    train(config)
    last = run / "checkpoints" / "last.pth"
    last.parent.mkdir(exist_ok=True)  # a finished run removes its (empty) checkpoints folder
    state = torch.load(run / "final.pth", weights_only=True)
    torch.save({**state, "iteration": 2, "optimizer": {}}, last)  # what a run killed at iteration 2 leaves
    out = tmp_path / "eval.json"
    assert main(["evaluate", "--checkpoint", str(last), "--dataset", "cityscapes", "--data-root", str(tmp_path / "data"),
                 "--size", "64", "128", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["checkpoint_final"] is False and record["checkpoint_iteration"] == 2
    assert "holds iteration 2 of 4" in capsys.readouterr().err


@pytest.mark.parametrize("setting, message", [
    ("crop_size=512", "crop_size takes 2 values"),
    ("warmup_iters=-5", "warmup_iters must be >= 0"),
    ("lr=nan", "lr must be a finite number"),
    ("lr=inf", "lr must be a finite number"),
    ("crop_size=1024,2048", "larger than the largest resized image 256x512"),
])
def test_config_values_are_range_checked_with_their_name(setting, message):
    from crosscbam.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        make_config("M1", "cityscapes", "-", "-", preset="smoke", overrides=[setting])


def test_a_variant_built_for_another_dataset_is_refused():
    from crosscbam.errors import ConfigError

    with pytest.raises(ConfigError, match="variant camvid-M is built for camvid \\(11 classes\\), not cityscapes"):
        make_config("camvid-M", "cityscapes", "-", "-", preset="smoke")


def test_a_run_that_cannot_fit_in_memory_is_refused_before_it_starts(tmp_path, monkeypatch):
    from crosscbam.errors import ConfigError
    from crosscbam.training import trainer

    config = tiny_config(tmp_path / "run", iterations=1)
    model = trainer.build_model("M1-c128", 2)
    need = trainer.expected_memory(model, config)
    assert 0 < need < 2**30  # batch 2 at 128x256
    monkeypatch.setattr(trainer, "available_memory", lambda device: need // 2)
    with pytest.raises(ConfigError, match="needs about .* GiB, cpu has .* GiB free; lower batch_size or crop_size"):
        train(config, dataset=BlobDataset(), num_classes=2)
    assert not (tmp_path / "run" / "final.pth").exists()


@pytest.mark.parametrize("name, dataset", [("PP-LiteSeg-T", "camvid"), ("DDRNet-23-slim", "cityscapes")])
def test_a_rival_trains_on_either_dataset_under_the_same_recipe(tmp_path, name, dataset):
    """The full preset can train a rival like a variant (`crosscbam train --variant PP-LiteSeg-T`): same
    loss, schedule and checkpoint; without training-only heads the auxiliary loss term is absent."""
    config = make_config(name, dataset, str(tmp_path), str(tmp_path / "run"), preset="smoke", seed=0,
                         overrides=["iterations=2", "batch_size=2", "checkpoint_every=2", "log_every=1", "progress=false"])
    final = train(config, dataset=BlobDataset(), num_classes=2)
    checkpoint = torch.load(final, map_location="cpu", weights_only=True)
    assert checkpoint["variant"] == name and checkpoint["dataset"] == dataset and checkpoint["num_classes"] == 2
    lines = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and all(r["loss"] == r["loss"] and r["loss"] > 0 for r in lines)
    from crosscbam.models.weights import load_model

    model, meta = load_model(None, final)
    assert meta["variant"] == name and model(torch.zeros(1, 3, 64, 64)).shape == (1, 2, 64, 64)


def test_channels_last_is_the_same_fp32_training_within_float_tolerance(tmp_path):
    """A layout change only: the convolutions see NHWC inputs, the losses of the first iterations equal
    the eager NCHW run's to float rounding, and the setting is part of the run's identity."""
    runs, layouts = {}, {}
    original = torch.nn.Conv2d.forward
    for layout in ("false", "true"):
        seen = []

        def record(self, x, seen=seen):
            seen.append(x.dim() == 4 and x.shape[1] > 1 and x.is_contiguous(memory_format=torch.channels_last)
                        and not x.is_contiguous())
            return original(self, x)

        torch.nn.Conv2d.forward = record
        try:
            train(tiny_config(tmp_path / layout, channels_last=layout), dataset=BlobDataset(), num_classes=2)
        finally:
            torch.nn.Conv2d.forward = original
        layouts[layout] = seen
        runs[layout] = [json.loads(line)["loss"] for line in (tmp_path / layout / "metrics.jsonl").read_text().splitlines()]
    assert not any(layouts["false"]) and sum(layouts["true"]) > len(layouts["true"]) // 2
    assert runs["true"][0] == pytest.approx(runs["false"][0], rel=1e-5)  # same weights, same batch: rounding only
    # SGD carries the rounding on and amplifies it (0.4 % by the sixth step in one CI run): the first three
    assert runs["true"][:3] == pytest.approx(runs["false"][:3], rel=2e-3)
    assert tiny_config(tmp_path / "a", channels_last="true").config_hash() != tiny_config(tmp_path / "a").config_hash()


def test_a_compiled_loss_is_the_same_fp32_training_within_float_tolerance_and_may_resume(tmp_path):
    """compile_loss: the loss terms run through torch.compile (its graphs counted), the losses of the first
    iterations equal the eager run's to float rounding, and the run's identity is unchanged (a run may resume
    with it switched, as with workers)."""
    from torch._dynamo.utils import counters

    runs = {}
    for compiled in ("false", "true"):
        graphs = counters["stats"]["unique_graphs"]
        train(tiny_config(tmp_path / compiled, compile_loss=compiled), dataset=BlobDataset(), num_classes=2)
        assert (counters["stats"]["unique_graphs"] > graphs) == (compiled == "true")
        runs[compiled] = [json.loads(line)["loss"] for line in (tmp_path / compiled / "metrics.jsonl").read_text().splitlines()]
    assert runs["true"][:3] == pytest.approx(runs["false"][:3], rel=2e-3)
    assert tiny_config(tmp_path / "a", compile_loss="true").config_hash() == tiny_config(tmp_path / "a").config_hash()

