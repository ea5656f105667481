# Inference speed (paper Sec. 4.2): ONNX export, then FPS per (variant, size, backend). Every FPS
# record also times the variant's STDC-Seg reference in the same process, so ratios compare across
# hardware. FPS jobs hold the `timing` resource (limit 1 in the profiles) and, locally, every core
# Snakemake was given, so nothing else runs beside them; under SLURM they also ask for an
# exclusive node (profile), and TensorRT jobs for a GPU (gpu=1).
from crosscbam.models import get_variant
from crosscbam.speed.fps import reference_for

SPEED = config["presets"][PRESET]["speed"]
ONNX_DIR = f"{RESULTS}/onnx"
FPS_BACKENDS = ["onnxruntime", "torch"]  # rule fps; tensorrt has its own rule (GPU)


wildcard_constraints:
    h=r"\d+",
    w=r"\d+",


def speed_runs():
    """(variant, H, W) of every FPS job: the configured sizes, or each variant's paper size."""
    runs = []
    for variant in SPEED["variants"]:
        sizes = SPEED["sizes"] if SPEED["sizes"] else [get_variant(variant).eval_size]
        runs += [(variant, h, w) for h, w in sizes]
    return runs


def fps_results():
    """Every FPS JSON of this preset (inputs of the speed table and of the paper tables' FPS column)."""
    return [f"{RESULTS}/fps/{v}_{h}x{w}.{b}.json" for v, h, w in speed_runs() for b in SPEED["backends"]]


def speed_targets():
    return fps_results() + ["reports/fps.csv", "reports/fps.md"]


def fps_onnx(wildcards):
    """The ONNX exports an ONNX Runtime / TensorRT job reuses: the variant's and its reference's."""
    if wildcards.backend == "torch":
        return []
    names = [wildcards.variant] + [r for r in [reference_for(wildcards.variant)] if r]
    return [f"{ONNX_DIR}/{name}_{wildcards.h}x{wildcards.w}.onnx" for name in names]


def fps_threads(wildcards):
    return SPEED["threads"] or workflow.cores


FPS_ARGS = (
    "--size {wildcards.h} {wildcards.w} --precision {params.precision} --warmup {params.warmup} "
    "--min-seconds {params.min_seconds} --min-iterations {params.min_iterations} --threads {threads} "
    "--onnx-dir {params.onnx_dir}"
)


rule export_onnx:
    output:
        onnx=f"{ONNX_DIR}/{{variant}}_{{h}}x{{w}}.onnx",
        record=f"{ONNX_DIR}/{{variant}}_{{h}}x{{w}}.json",
    log:
        f"{LOGS}/onnx/{{variant}}_{{h}}x{{w}}.log",
    benchmark:
        f"benchmarks/{PRESET}/onnx/{{variant}}_{{h}}x{{w}}.tsv"
    shell:
        "crosscbam export {wildcards.variant} --size {wildcards.h} {wildcards.w} --out {output.onnx} "
        "--json {output.record} > {log} 2>&1"


rule fps:
    input:
        fps_onnx,
    output:
        f"{RESULTS}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.json",
    log:
        f"{LOGS}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.log",
    benchmark:
        f"benchmarks/{PRESET}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.tsv"
    wildcard_constraints:
        backend="|".join(FPS_BACKENDS),
    threads: fps_threads
    resources:
        timing=1,
    params:
        onnx_dir=ONNX_DIR,
        **{key: SPEED[key] for key in ("precision", "warmup", "min_seconds", "min_iterations")},
    shell:
        "crosscbam fps {wildcards.variant} --backend {wildcards.backend} " + FPS_ARGS + " --json {output} > {log} 2>&1"


rule fps_tensorrt:
    input:
        fps_onnx,
    output:
        f"{RESULTS}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.json",
    log:
        f"{LOGS}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.log",
    benchmark:
        f"benchmarks/{PRESET}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.tsv"
    wildcard_constraints:
        backend="tensorrt",
    threads: fps_threads
    resources:
        timing=1,
        gpu=1,
    params:
        onnx_dir=ONNX_DIR,
        engine_cache=f"{RESULTS}/engines",
        **{key: SPEED[key] for key in ("precision", "warmup", "min_seconds", "min_iterations")},
    shell:
        "crosscbam fps {wildcards.variant} --backend tensorrt " + FPS_ARGS + " --engine-cache {params.engine_cache} "
        "--json {output} > {log} 2>&1"


rule fps_table:
    input:
        fps_results(),
    output:
        csv="reports/fps.csv",
        md="reports/fps.md",
    log:
        f"{LOGS}/report/fps.log",
    params:
        preset=PRESET,
    shell:
        "crosscbam fps-table --preset {params.preset} --results {input} --csv {output.csv} --md {output.md} 2> {log}"
