"""The timing loop (with a fake backend and a fake clock), backend selection, roofline and records."""

import json

import pandas as pd
import pytest
import torch

from crosscbam.reports.speed import fps_table, fps_view
from crosscbam.speed import backends, roofline, tensorrt
from crosscbam.speed.backend import RunnerSpec, resolve_device
from crosscbam.speed.backends import check_backend_precision, select_backend
from crosscbam.speed.pytorch import TorchRunner
from crosscbam.speed.records import read_fps_record
from crosscbam.speed.timing import summarize, time_runner


class FakeDevice:
    """An asynchronous device: ``run`` queues work, only ``synchronize`` advances the clock by it."""

    def __init__(self, pass_seconds=0.01, warmup_seconds=None, warmup_count=0):
        self.now = 0.0
        self.pending = 0.0
        self.pass_seconds = pass_seconds
        self.warmup_seconds = warmup_seconds
        self.warmup_count = warmup_count
        self.runs = 0
        self.events = []

    def run(self):
        self.runs += 1
        self.events.append("run")
        slow = self.warmup_seconds is not None and self.runs <= self.warmup_count
        self.pending += self.warmup_seconds if slow else self.pass_seconds

    def synchronize(self):
        self.events.append("sync")
        self.now += self.pending
        self.pending = 0.0

    def clock(self):
        self.events.append("clock")
        return self.now


def test_warmup_is_run_but_never_timed():
    device = FakeDevice(pass_seconds=0.01, warmup_seconds=5.0, warmup_count=3)
    timing = time_runner(device, warmup=3, min_seconds=0.1, min_iterations=1, clock=device.clock)
    assert device.runs == 3 + timing.iterations
    assert timing.latency_ms_max == pytest.approx(10.0)  # no 5-second warm-up pass among them
    assert timing.fps == pytest.approx(100.0)


def test_every_clock_read_follows_a_synchronisation():
    device = FakeDevice()
    time_runner(device, warmup=2, min_seconds=0.05, min_iterations=1, clock=device.clock)
    events = device.events
    assert events[:3] == ["run", "run", "sync"]  # warm-up drained before the clock starts
    for index, event in enumerate(events):
        if event == "clock":
            assert events[index - 1] == "sync"
    # each timed pass is run -> sync -> clock
    assert events[3:].count("run") == events[3:].count("clock") - 1


def test_minimum_time_and_minimum_iterations_are_honoured():
    device = FakeDevice(pass_seconds=0.03)
    timing = time_runner(device, warmup=0, min_seconds=1.0, min_iterations=5, clock=device.clock)
    assert timing.total_s >= 1.0 and timing.iterations == 34  # ceil(1.0 / 0.03), not one more
    device = FakeDevice(pass_seconds=0.5)
    timing = time_runner(device, warmup=0, min_seconds=1.0, min_iterations=5, clock=device.clock)
    assert timing.iterations == 5 and timing.total_s == pytest.approx(2.5)


def test_statistics():
    timing = summarize([0.010, 0.010, 0.020, 0.040], total_s=0.08, warmup=0, min_seconds=0, min_iterations=1)
    assert timing.fps == pytest.approx(50.0) and timing.fps_median == pytest.approx(1e3 / 15.0)
    assert timing.latency_ms_median == pytest.approx(15.0)
    assert timing.latency_ms_p90 == pytest.approx(34.0)  # linear interpolation between 20 and 40
    assert timing.cv == pytest.approx(torch.tensor([10.0, 10, 20, 40]).std().item() / 20.0)
    with pytest.raises(ValueError):
        time_runner(FakeDevice(), warmup=-1)


def _with_tensorrt(monkeypatch, reason):
    """The list of backends with TensorRT's availability replaced by ``reason``."""
    from dataclasses import replace

    monkeypatch.setattr(backends, "BACKENDS", tuple(replace(b, unavailable_reason=lambda: reason) if b.name == "tensorrt" else b
                                                    for b in backends.BACKENDS))


def test_explicit_backends_are_checked_and_auto_measures_those_that_run_here(monkeypatch):
    _with_tensorrt(monkeypatch, "no CUDA device visible to PyTorch")
    with pytest.raises(ValueError, match="backend tensorrt cannot run here: no CUDA device"):
        select_backend("tensorrt")
    assert backends.auto_candidates("fp32") == ["onnxruntime", "openvino", "torch"]
    assert backends.auto_candidates("bf16") == ["torch"]  # the fp32-graph backends run fp32 only
    _with_tensorrt(monkeypatch, None)
    assert backends.auto_candidates("fp16")[0] == "tensorrt" and select_backend("tensorrt") == backends.BackendChoice("tensorrt", "tensorrt")
    with pytest.raises(ValueError, match="unknown backend 'tensorrtx'; expected auto or one of tensorrt, onnxruntime, openvino, torch"):
        select_backend("tensorrtx")


def test_auto_picks_the_backend_measured_fastest_not_a_fixed_order(monkeypatch):
    """Whichever backend is slowed down here, auto picks the other: the choice follows the measurement."""
    import time

    from crosscbam.speed import fps

    made = fps._runner

    def slowed(slow):
        def runner(name, size, options, *args):
            made_runner, digest = made(name, size, options, *args)
            if options.backend == slow:
                run = made_runner.run
                made_runner.run = lambda: (time.sleep(0.2), run())
            return made_runner, digest
        return runner

    monkeypatch.setattr(fps, "auto_candidates", lambda precision: ["onnxruntime", "torch"])
    for slow, expected in (("onnxruntime", "torch"), ("torch", "onnxruntime")):
        monkeypatch.setattr(fps, "_runner", slowed(slow))
        choice = fps.fastest_backend("STDC1-Seg", (32, 64), fps.TimingOptions(threads=1, device="cpu"))
        assert choice.backend == expected and choice.requested == "auto", choice
        assert choice.fallback.startswith(f"auto: the fastest backend measured here (STDC1-Seg 32x64 fp32, FPS: {expected} ")


def test_without_cuda_tensorrt_is_unavailable(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert "no CUDA device" in tensorrt.unavailable_reason()
    with pytest.raises(ValueError, match="no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="backend tensorrt needs a CUDA device"):
        tensorrt.BACKEND.runner(RunnerSpec("M1", (64, 64), "fp32", 1, "cuda", onnx=tmp_path / "M1_64x64.onnx"))


def test_torch_runner_runs_at_the_requested_precision():
    model = torch.nn.Conv2d(3, 4, 3)
    runner = TorchRunner(model, (40, 48), "cpu", "bf16", threads=1)
    runner.run()
    runner.synchronize()
    assert runner.output.dtype == torch.bfloat16 and runner.output.shape == (1, 4, 38, 46)
    assert runner.info()["threads"] == 1


def test_a_precision_a_backend_does_not_run_is_refused_naming_those_that_do():
    for name in ("onnxruntime", "openvino"):
        with pytest.raises(ValueError, match=f"{name} runs the exported fp32 graph; fp16 is measured with --backend tensorrt or torch"):
            check_backend_precision(name, "fp16")
    with pytest.raises(ValueError, match="unknown precision 'fp8'; expected one of fp32, fp16, bf16"):
        check_backend_precision("torch", "fp8")
    check_backend_precision("tensorrt", "bf16")


def test_every_reader_of_backends_reads_the_one_list():
    """A backend is its module and one entry of BACKENDS: the command line's choices, the workflow's names,
    the library versions every record carries and the speed table's versions column follow the list."""
    from crosscbam.cli import build_parser
    from crosscbam.provenance import LIBRARIES
    from crosscbam.reports.speed import fps_row

    parser = build_parser()
    for backend in backends.BACKENDS:
        args = parser.parse_args(["fps", "M1", "--backend", backend.name])
        assert args.backend == backend.name and set(backend.libraries) <= set(LIBRARIES)
        versions = {library: "9.9" for library in backend.libraries}
        record = {**fake_record("M1", 5.0, 6.0), "backend": backend.name}
        record["provenance"] = {**record["provenance"], "backend_versions": {**versions, "threads": 2}}
        assert fps_row(record)["versions"] == ", ".join(f"{library} 9.9" for library in backend.libraries)
    assert set(backends.PRECISIONS) == {p for b in backends.BACKENDS for p in b.precisions}


def test_listing_the_backends_imports_none_of_their_libraries():
    """The workflow and the command line's parser read the list: no torch, no backend library, until used."""
    import subprocess
    import sys

    code = ("import sys; from crosscbam.speed.backends import BACKENDS; [b.name for b in BACKENDS]; "
            "sys.exit(sorted(m for m in ('torch', 'onnxruntime', 'openvino', 'tensorrt') if m in sys.modules) or None)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_theoretical_cpu_peak_from_flags(monkeypatch):
    monkeypatch.setattr(roofline, "cpu_flags", lambda: {"avx", "avx2", "fma"})
    monkeypatch.setattr(roofline, "cpu_ghz", lambda: 2.5)
    peak, basis = roofline.theoretical_cpu_peak(2)
    assert peak == pytest.approx(2 * 2.5e9 * 16) and "2 cores" in basis
    assert roofline.theoretical_cpu_peak(2, "bf16")[0] == peak  # no native bf16: FP32 rate
    monkeypatch.setattr(roofline, "cpu_flags", lambda: {"avx512f", "fma", "avx512_bf16"})
    assert roofline.theoretical_cpu_peak(1, "bf16")[0] == pytest.approx(2.5e9 * 64)


def test_roofline_fraction(monkeypatch):
    monkeypatch.setattr(roofline, "measured_gemm_peak", lambda *args: 100e9)
    record = roofline.roofline(macs=10**9, fps=80.0, device="cpu", precision="fp32", threads=2)
    assert record["bound_fps_measured"] == pytest.approx(100.0)
    assert record["fraction_measured"] == pytest.approx(0.8)


def fake_record(model, fps, reference_fps):
    timing = {"fps": fps, "latency_ms_median": 1e3 / fps, "latency_ms_p90": 1.1e3 / fps, "cv": 0.02, "iterations": 50}
    return {
        "model": model, "input": [1, 3, 512, 1024], "backend": "onnxruntime", "precision": "fp32", "fps": fps,
        "timing": timing, "fallback": None,
        "reference": {"model": "STDC1-Seg", "fps": reference_fps, "timing": {**timing, "fps": reference_fps}},
        "fps_ratio": fps / reference_fps,
        "roofline": {"bound_fps_measured": 10.0, "fraction_measured": fps / 10.0},
        "provenance": {"device": "test cpu", "threads": 2, "commit": "abc", "backend_versions": {"onnxruntime": "1.32.0"}},
    }


def test_fps_table_puts_our_ratio_next_to_the_papers(tmp_path):
    path = tmp_path / "M1.json"
    path.write_text(json.dumps(fake_record("M1", 5.0, 6.0)))  # the paper's ratio: Table 2, 240.9 / 250.4
    frame = fps_table([read_fps_record(path)])
    row = frame.iloc[0]
    assert row["fps_ratio"] == pytest.approx(0.833) and row["fps_ratio_paper"] == pytest.approx(0.962)
    assert row["fps_ratio_delta"] == pytest.approx(0.833 - 0.962, abs=1e-3)
    assert row["reference"] == "STDC1-Seg" and row["input"] == "512x1024" and row["device"] == "test cpu"


def test_malformed_fps_files_are_named(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"model": "M1"}))
    with pytest.raises(ValueError, match="bad.json is not a crosscbam FPS JSON \\(missing input"):
        read_fps_record(bad)


def test_networks_of_one_comparison_are_timed_interleaved():
    """Each network is timed in alternating slices (A B, B A, ...), so neither always runs first, and
    each gets the protocol's minimum time and passes in total; the first pass after a switch is untimed."""
    from crosscbam.speed.timing import time_interleaved

    order = []

    class Shared:  # one clock for both networks, as on one device
        now = 0.0

    class Runner:
        def __init__(self, name, seconds):
            self.name, self.seconds, self.pending = name, seconds, 0.0

        def run(self):
            order.append(self.name)
            self.pending += self.seconds

        def synchronize(self):
            Shared.now += self.pending
            self.pending = 0.0

    a, b = Runner("A", 0.01), Runner("B", 0.02)
    timings = time_interleaved({"A": a, "B": b}, warmup=1, min_seconds=0.4, min_iterations=8, rounds=4,
                               clock=lambda: Shared.now)
    slices = [name for i, name in enumerate(order) if i == 0 or order[i - 1] != name]
    # warm-ups A B, then rounds A B | B A | A B | B A (a slice that continues the previous network's merges)
    assert slices == ["A", "B", "A", "B", "A", "B", "A"]
    assert timings["A"].total_s >= 0.4 and timings["B"].total_s >= 0.4
    assert timings["A"].iterations >= 8 and timings["B"].iterations >= 8
    assert timings["A"].latency_ms_median == pytest.approx(10.0) and timings["B"].latency_ms_median == pytest.approx(20.0)


def test_load_is_the_cpu_time_of_other_processes_per_wall_second():
    from crosscbam.speed.load import machine_load

    busy, own, clock = iter([100.0, 103.0]), iter([10.0, 11.0]), iter([0.0, 2.0])
    with machine_load(busy=lambda: next(busy), own=lambda: next(own), clock=lambda: next(clock)) as load:
        pass
    # the CPUs were busy 3 s in 2 s of wall time, 1 s of it ours: others kept 1 core busy
    assert load["others_cores"] == pytest.approx(1.0) and load["cpu_s_ours"] == pytest.approx(1.0)
    with machine_load(busy=lambda: None) as unknown:  # no /proc/stat (not Linux)
        pass
    assert unknown["others_cores"] is None


def test_a_busy_process_beside_the_timing_is_measured_as_load():
    import subprocess
    import sys
    import time

    from crosscbam.reports.speed import LOAD_LIMIT_CORES
    from crosscbam.speed.load import machine_load

    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        with machine_load() as load:
            time.sleep(1.0)  # what we time uses no CPU; the spinner does
    finally:
        spinner.kill()
        spinner.wait()
    assert load["others_cores"] > LOAD_LIMIT_CORES and load["cpu_s_ours"] < 0.2


def test_fps_markdown_keeps_what_a_person_reads_and_the_csv_everything(tmp_path):
    from crosscbam.cli import main

    quiet, noisy, loaded = fake_record("M1", 5.0, 6.0), fake_record("L1", 2.0, 3.0), fake_record("M1-c128", 9.0, 6.0)
    noisy["timing"] = {**noisy["timing"], "cv": 0.3}
    loaded["provenance"] = {**loaded["provenance"], "load": {"others_cores": 1.3, "cores": 2}}
    paths = []
    for record in (quiet, noisy, loaded):
        paths.append(tmp_path / f"{record['model']}.json")
        paths[-1].write_text(json.dumps(record))
    assert main(["fps-table", "--results", *map(str, paths), "--preset", "smoke", "--csv", str(tmp_path / "fps.csv"),
                 "--md", str(tmp_path / "fps.md")]) == 0
    csv = pd.read_csv(tmp_path / "fps.csv").set_index("variant")
    header = next(line for line in (tmp_path / "fps.md").read_text().splitlines() if line.startswith("| variant"))
    assert len(csv.columns) >= 25 and header.count("|") - 1 <= 10
    view = fps_view(csv.reset_index()).set_index("variant")
    assert view.loc["M1", "ratio"] == "0.833" and view.loc["M1", "ratio to"] == "STDC1-Seg 6.0"
    assert view.loc["L1", "ratio"].endswith("noisy") and "[" in view.loc["L1", "ratio"]  # never a bare number
    assert csv.loc["L1", "fps_ratio"] == pytest.approx(0.667) and csv.loc["L1", "fps_ratio_noisy"]
    assert view.loc["M1-c128", "load (others' cores)"] == "timed under load (1.30)" and view.loc["M1", "load (others' cores)"] == "not recorded"
    assert csv.loc["M1-c128", "timed_under_load"].startswith("timed under load") and csv.loc["M1", "record"].endswith("M1.json")
