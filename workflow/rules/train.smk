# Training under the paper's protocol (Sec. 4.2) per (dataset, network, seed) of the experiments.
# A job takes every core it is given (compute_threads), so trainings run one after another. Re-running after an
# interruption resumes from the run's last checkpoint (the run directory is kept by Snakemake).

rule train:
    input:
        lambda wildcards: dataset_ready(wildcards.dataset),
    output:
        checkpoint=f"{RESULTS}/train/{{dataset}}/{{variant}}/seed{{seed}}/final.pth",
        metrics=f"{RESULTS}/train/{{dataset}}/{{variant}}/seed{{seed}}/metrics.jsonl",
    log:
        f"{LOGS}/train/{{dataset}}/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"{TIMES}/train/{{dataset}}/{{variant}}/seed{{seed}}.tsv"
    params:
        preset=PRESET,
        root=lambda wildcards: dataset_root(wildcards.dataset),
        out=lambda wildcards, output: os.path.dirname(output.checkpoint),
        settings=training_settings,
        launcher=TRAIN["launcher"],
    threads: compute_threads()
    resources:
        gpu=TRAIN["gpus"],
    shell:
        "{params.launcher} train --variant {wildcards.variant} --dataset {wildcards.dataset} --data-root {params.root} "
        "--out {params.out} --preset {params.preset} --seed {wildcards.seed} --settings {params.settings:q} 2> {log}"
