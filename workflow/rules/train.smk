# Training under the paper's protocol (Sec. 4.2) per (dataset, variant, seed). Re-running after an
# interruption resumes from the run's last checkpoint (the run directory is kept by Snakemake).

rule train:
    input:
        lambda wildcards: dataset_ready(wildcards.dataset),
    output:
        f"{RESULTS}/train/{{dataset}}/{{variant}}/seed{{seed}}/final.pth",
    log:
        f"{LOGS}/train/{{dataset}}/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"benchmarks/{PRESET}/train/{{dataset}}/{{variant}}/seed{{seed}}.tsv"
    params:
        preset=PRESET,
        root=lambda wildcards: dataset_root(wildcards.dataset),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        overrides=" ".join(f"--set {item}" for item in TRAIN["set"]),
        launcher=TRAIN["launcher"],
    threads: TRAIN["threads"]
    resources:
        gpu=TRAIN["gpus"],
    shell:
        "{params.launcher} train --variant {wildcards.variant} --dataset {wildcards.dataset} --data-root {params.root} "
        "--out {params.out} --preset {params.preset} --seed {wildcards.seed} {params.overrides} 2> {log}"
