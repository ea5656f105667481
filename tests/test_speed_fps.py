"""``crosscbam fps`` end to end at a tiny size, the same-run STDC-Seg reference, the paper's ratios."""

import json
import re
import subprocess
import sys

import pytest
import torch

from crosscbam.cli import main
from crosscbam.models import build_model
from crosscbam.models.stdc_seg import AttentionRefinementModule, STDCSegHead
from crosscbam.paper import paper_speed
from crosscbam.speed.fps import TimingOptions, measure_fps
from crosscbam.variants import speed_reference as reference_for

FAST = dict(warmup=1, min_seconds=0.0, min_iterations=2, threads=1)


def test_stdc_seg_is_context_path_ffm_and_fcn_head():
    model = build_model("STDC1-Seg")
    head = model.decode_head
    assert isinstance(head, STDCSegHead) and model.aux_head is None
    assert [type(arm) for arm in head.arms] == [AttentionRefinementModule] * 2
    assert head.arms[0].conv_layer.conv.in_channels == 1024 and head.arms[1].conv_layer.conv.in_channels == 512
    assert head.ffm.conv0.conv.in_channels == 256 + 128 and head.ffm.conv0.conv.out_channels == 256
    assert head.fcn.conv.conv.out_channels == 256 and head.fcn.classifier[1].out_channels == 19
    with torch.no_grad():
        assert model.eval().decode(torch.zeros(1, 3, 64, 128)).shape == (1, 19, 8, 16)  # logits at 1/8


def test_each_variant_has_its_backbones_reference():
    assert reference_for("M1") == "STDC1-Seg" and reference_for("l2") == "STDC2-Seg"
    assert reference_for("camvid-L") == "STDC2-Seg" and reference_for("STDC1-Seg") is None


def test_paper_ratios_come_from_the_paper_tables():
    m1 = paper_speed("M1", "STDC1-Seg", (512, 1024))
    assert (m1["model_row"], m1["reference_row"], m1["fps"], m1["reference_fps"]) == ("Cross-CBAM-M1", "STDC1-Seg50", 240.9, 250.4)
    l2 = paper_speed("L2", "STDC2-Seg", (768, 1536))
    assert l2["fps_ratio"] == pytest.approx(88.6 / 97.0)
    m1_at_seg75 = paper_speed("M1", "STDC1-Seg", (768, 1536))  # M1 and M2 are one network
    assert (m1_at_seg75["model_row"], m1_at_seg75["reference_row"]) == ("Cross-CBAM-M2", "STDC1-Seg75")
    assert paper_speed("camvid-M", "STDC1-Seg", (720, 960))["reference_row"] == "STDC1-Seg"
    assert paper_speed("M1", "STDC1-Seg", (64, 128)) is None


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_measure_fps_times_the_model_and_its_reference(backend):
    record = measure_fps("M1", (64, 64), TimingOptions(backend=backend, device="cpu", **FAST))
    assert record["backend"] == backend and record["fallback"] is None and record["precision"] == "fp32"
    assert record["timing"]["iterations"] >= 2 and record["timing"]["warmup"] == 1 and record["fps"] > 0
    assert record["reference"]["model"] == "STDC1-Seg" and record["fps_ratio"] == pytest.approx(record["fps"] / record["reference"]["fps"])
    provenance = record["provenance"]
    assert provenance["threads"] == 1 and provenance["device_type"] == "cpu" and provenance["device"]
    assert {"torch", "onnxruntime", "onnx", "tensorrt"} <= set(provenance["libraries"])
    assert record["roofline"]["macs"] > 0 and 0 < record["roofline"]["fraction_measured"]
    load = provenance["load"]  # the machine's load while timing, for the reports to judge
    assert load["wall_s"] > 0 and load["cpu_s_ours"] > 0 and load["others_cores"] >= 0 and len(load["loadavg_before"]) == 3


def test_a_new_backend_is_one_backend_object_in_the_list(monkeypatch):
    """What adding a backend takes: a Backend (here one timing PyTorch eager under another name) and an entry in
    BACKENDS; explicit choice, auto's candidates and the record then follow."""
    from dataclasses import replace

    from crosscbam.speed import backends, pytorch

    built = []
    eager = replace(pytorch.BACKEND, name="eager-copy", precisions=("fp32",), device=lambda asked: "cpu",
                    runner=lambda spec: built.append(spec) or pytorch.BACKEND.runner(spec))
    monkeypatch.setattr(backends, "BACKENDS", (*backends.BACKENDS, eager))
    assert "eager-copy" in backends.auto_candidates("fp32") and "eager-copy" not in backends.auto_candidates("bf16")
    record = measure_fps("M1", (32, 64), TimingOptions(backend="eager-copy", **FAST))
    assert record["backend"] == "eager-copy" and record["onnx_sha256"] is None and record["reference"]["model"] == "STDC1-Seg"
    assert [(spec.network, spec.size, spec.device, spec.threads) for spec in built] == [("M1", (32, 64), "cpu", 1), ("STDC1-Seg", (32, 64), "cpu", 1)]
    with pytest.raises(ValueError, match="eager-copy runs fp32; bf16 is measured with --backend tensorrt or torch"):
        measure_fps("M1", (32, 64), TimingOptions(backend="eager-copy", precision="bf16", **FAST))


def test_the_command_line_builds_the_timing_options_once_with_the_protocols_defaults():
    from crosscbam.cli import build_parser
    from crosscbam.speed.cli import _options

    parser = build_parser()
    assert _options(parser.parse_args(["fps", "M1"])) == _options(parser.parse_args(["fps-group", "M1"])) == TimingOptions()
    args = parser.parse_args(["fps-group", "--table", "table2", "--backend", "torch", "--precision", "bf16", "--warmup", "2",
                              "--min-seconds", "0.5", "--min-iterations", "3", "--threads", "4", "--device", "cpu",
                              "--onnx-dir", "onnx", "--engine-cache", "engines"])
    assert _options(args) == TimingOptions("torch", "bf16", 2, 0.5, 3, 4, "cpu", "onnx", "engines")


def test_fps_cli_auto_times_every_backend_here_and_records_the_choice(tmp_path):
    from crosscbam.speed.backends import auto_candidates

    out = tmp_path / "fps" / "STDC2-Seg_64x64.auto.json"
    args = ["fps", "STDC2-Seg", "--size", "64", "64", "--backend", "auto", "--warmup", "1", "--min-seconds", "0",
            "--min-iterations", "2", "--threads", "1", "--json", str(out)]
    # in a process of its own, as the workflow runs it: OpenVINO's threading runtime (one of the backends auto
    # times) does not survive a later fork of the process that loaded it (this suite's DataLoader workers)
    captured = subprocess.run([sys.executable, "-m", "crosscbam", *args], capture_output=True, text=True)
    assert captured.returncode == 0, captured.stderr[-2000:]
    record = json.loads(out.read_text())
    measured = dict(re.findall(r"(\w+) ([\d.]+)", record["fallback"].split("FPS: ")[1].split(";")[0]))
    assert set(measured) == set(auto_candidates("fp32")) >= {"onnxruntime", "openvino", "torch"}  # every backend that runs here, timed
    assert record["backend"] == max(measured, key=lambda b: float(measured[b])) and record["requested_backend"] == "auto"
    assert "the fastest backend measured here" in captured.stderr
    assert record["reference"] is None and "FPS" in captured.stdout
    table = tmp_path / "fps.csv"
    assert main(["fps-table", "--results", str(out), "--preset", "smoke", "--csv", str(table), "--md", str(tmp_path / "fps.md")]) == 0
    assert "STDC2-Seg" in table.read_text() and (tmp_path / "fps.md").read_text().startswith("# Inference speed")


def test_fps_cli_errors_are_one_line(capsys):
    assert main(["fps", "M1", "--size", "64", "64", "--backend", "onnxruntime", "--precision", "bf16"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "fp32 graph; bf16" in err
    if not torch.cuda.is_available():
        assert main(["fps", "M1", "--size", "64", "64", "--backend", "tensorrt"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "backend tensorrt cannot run here" in err


def test_a_group_of_rivals_is_timed_interleaved_in_one_run(tmp_path, capsys):
    """`crosscbam fps-group`: Cross-CBAM-M1 and rivals at one size, one backend, one run; each
    network's record keeps its own CV, and its FPS as a ratio to the first network's."""
    out = tmp_path / "group.json"
    args = ["fps-group", "M1", "PP-LiteSeg-T", "BiSeNetV2", "--size", "64", "128", "--backend", "torch", "--device", "cpu",
            "--warmup", "1", "--min-seconds", "0", "--min-iterations", "4", "--threads", "1", "--json", str(out)]
    assert main(args) == 0
    record = json.loads(out.read_text())
    assert record["models"] == ["M1", "PP-LiteSeg-T", "BiSeNetV2"]
    assert all(n["input"] == [1, 3, 64, 128] for n in record["networks"])
    networks = {n["model"]: n for n in record["networks"]}
    assert networks["M1"]["fps_ratio_to_first"] == 1.0
    for entry in networks.values():
        assert entry["timing"]["iterations"] >= 4 and entry["timing"]["cv"] >= 0 and entry["fps"] > 0
        assert entry["fps_ratio_to_first"] == pytest.approx(entry["fps"] / networks["M1"]["fps"])
    assert record["provenance"]["load"]["others_cores"] >= 0  # one run, one load
    assert "x M1" in capsys.readouterr().out


def test_a_table_group_times_every_row_we_build_at_its_rows_input(tmp_path):
    """`crosscbam fps-group --table table2 --scale S`: Cross-CBAM-M first, each network at its row's
    input times S (M2 and the 768x1536 rows at 1.5x the 512x1024 ones, SegFormer at 1024x1024), with
    the rows it stands for, and fvcore's counts at that input."""
    out = tmp_path / "table2.json"
    args = ["fps-group", "--table", "table2", "--scale", "0.0625", "--backend", "torch", "--device", "cpu", "--warmup", "0",
            "--min-seconds", "0", "--min-iterations", "2", "--threads", "1", "--json", str(out)]
    assert main(args) == 0
    record = json.loads(out.read_text())
    assert record["table"] == "table2" and record["scale"] == 0.0625 and record["models"][0] == "M1"
    by_row = {row: n for n in record["networks"] for row in n["rows"]}
    assert by_row["Cross-CBAM-M1"]["input"] == [1, 3, 32, 64] and by_row["PP-LiteSeg-T2"]["input"] == [1, 3, 48, 96]
    assert by_row["SegFormer"]["model"] == "SegFormer-B0" and by_row["SegFormer"]["input"] == [1, 3, 64, 64]
    assert by_row["STDC1-Seg50"] is not by_row["STDC1-Seg75"] and by_row["STDC1-Seg75"]["model"] == "STDC1-Seg"
    assert by_row["PP-LiteSeg-T1"]["gflops"] > 0 and by_row["PP-LiteSeg-T1"]["params"] > 1e6
    assert "ENet" not in by_row and len(record["networks"]) == 13


@pytest.mark.parametrize("args, message", [
    (["fps-group"], "give either network names with --size, or --table"),
    (["fps-group", "M1", "--table", "table2"], "give either network names"),
    (["fps-group", "M1"], "need --size"),
    (["fps-group", "--table", "table4"], "table4 is not a comparison table"),
])
def test_fps_group_arguments_are_checked_in_one_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and message in err
