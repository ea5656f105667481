# Inference speed (paper Sec. 4.2): ONNX export, then FPS per (variant, size, backend). Every FPS
# record also times the variant's STDC-Seg reference in the same process, so ratios compare across
# hardware. Run locally, a timing job claims every core Snakemake was given, whatever speed.threads
# it times with, so that no other job of the DAG runs beside it (tests/test_speed_workflow.py); under
# SLURM it asks for speed.threads CPUs on an exclusive node (profile), TensorRT jobs for a GPU (gpu=1),
# and the `timing` resource (limit 1 in the profiles) keeps them one at a time. Load from outside the
# DAG is measured and recorded with each record (crosscbam.speed.load); the reports mark it.

rule export_onnx:
    output:
        onnx=f"{ONNX_DIR}/{{variant}}_{{h}}x{{w}}.onnx",
        record=f"{ONNX_DIR}/{{variant}}_{{h}}x{{w}}.json",
    log:
        f"{LOGS}/onnx/{{variant}}_{{h}}x{{w}}.log",
    benchmark:
        f"{TIMES}/onnx/{{variant}}_{{h}}x{{w}}.tsv"
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
        f"{TIMES}/fps/{{variant}}_{{h}}x{{w}}.{{backend}}.tsv"
    wildcard_constraints:
        backend="|".join(BACKENDS),
    threads: lambda wildcards: given_cores() if workflow.local_exec else SPEED["threads"] or given_cores()
    resources:
        timing=1,
        gpu=fps_resources,
    params:
        threads=lambda wildcards, threads: SPEED["threads"] or threads,
        onnx_dir=ONNX_DIR,
        engine_cache=f"{RESULTS}/engines",
        **{key: SPEED[key] for key in ("precision", "warmup", "min_seconds", "min_iterations")},
    shell:
        "crosscbam fps {wildcards.variant} --backend {wildcards.backend} "
        "--size {wildcards.h} {wildcards.w} --precision {params.precision} --warmup {params.warmup} "
        "--min-seconds {params.min_seconds} --min-iterations {params.min_iterations} --threads {params.threads} "
        "--onnx-dir {params.onnx_dir} --engine-cache {params.engine_cache} --json {output} > {log} 2>&1"


# Tables 2-3: every row we build (Cross-CBAM and the rivals, each at its row's input) timed in one
# interleaved run per backend, so that their ratios to Cross-CBAM-M compare on one machine.
rule fps_group:
    input:
        group_onnx,
    output:
        f"{RESULTS}/fps_group/{{table}}.{{backend}}.json",
    log:
        f"{LOGS}/fps_group/{{table}}.{{backend}}.log",
    benchmark:
        f"{TIMES}/fps_group/{{table}}.{{backend}}.tsv"
    wildcard_constraints:
        table="|".join(SPEED_TABLES),
        backend="|".join(BACKENDS),
    threads: lambda wildcards: given_cores() if workflow.local_exec else SPEED["threads"] or given_cores()
    resources:
        timing=1,
        gpu=fps_resources,
    params:
        threads=lambda wildcards, threads: SPEED["threads"] or threads,
        onnx_dir=ONNX_DIR,
        engine_cache=f"{RESULTS}/engines",
        scale=lambda wildcards: repr(group_scale(wildcards.table)),
        **{key: SPEED[key] for key in ("precision", "warmup", "min_seconds", "min_iterations")},
    shell:
        "crosscbam fps-group --table {wildcards.table} --scale {params.scale} --backend {wildcards.backend} "
        "--precision {params.precision} --warmup {params.warmup} --min-seconds {params.min_seconds} "
        "--min-iterations {params.min_iterations} --threads {params.threads} --onnx-dir {params.onnx_dir} "
        "--engine-cache {params.engine_cache} --json {output} > {log} 2>&1"


rule fps_table:
    input:
        # Every FPS record a report shows: the configured runs and the Tables 5-6 rows' (their references too).
        sorted({*fps_results(), *(path for table in TABLES for path in table_inputs(table) if f"{RESULTS}/fps/" in path)}),
    output:
        csv="reports/fps.csv",
        md="reports/fps.md",
    log:
        f"{LOGS}/report/fps.log",
    params:
        preset=RUN,
    shell:
        "crosscbam fps-table --preset {params.preset} --results {input} --csv {output.csv} --md {output.md} 2> {log}"


if SETTINGS.get("deploy"):

    rule deployment:
        input:
            checkpoint=checkpoint(SETTINGS["deploy"]["dataset"], SETTINGS["deploy"]["variant"], FIRST_SEED),
            data=dataset_ready(SETTINGS["deploy"]["dataset"]),
        output:
            json=f"{RESULTS}/deploy/deployment.json",
            csv="reports/deployment.csv",
            md="reports/deployment.md",
        log:
            f"{LOGS}/deploy/deployment.log",
        benchmark:
            f"{TIMES}/deploy/deployment.tsv"
        params:
            deploy=SETTINGS["deploy"],
            root=dataset_root(SETTINGS["deploy"]["dataset"]),
            size="{} {}".format(*eval_size(SETTINGS["deploy"]["variant"], SETTINGS["deploy"]["dataset"])),
            label=shlex.quote(data_label(SETTINGS["deploy"]["dataset"])),
            out=lambda wildcards, output: os.path.dirname(output.json),
        threads: compute_threads()
        resources:
            timing=1,
        shell:
            "crosscbam deploy --checkpoint {input.checkpoint} --variant {params.deploy[variant]} --dataset {params.deploy[dataset]} "
            "--data-root {params.root} --data-label {params.label} --size {params.size} "
            "--calibration-images {params.deploy[calibration_images]} --min-seconds {params.deploy[min_seconds]} "
            "--out-dir {params.out} --csv {output.csv} --md {output.md} 2> {log}"
