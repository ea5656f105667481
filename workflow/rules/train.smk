# Training under the paper's protocol (Sec. 4.2) per (dataset, variant, seed). Re-running after an
# interruption resumes from the run's last checkpoint (the run directory is kept by Snakemake).
from crosscbam.data import DATASETS

TRAIN = config["presets"][PRESET]["train"]
# M2 / L2 are M1 / L1 evaluated at 768x1536 (the suffix is only the input resolution, DESIGN.md §1).
SAME_WEIGHTS = {"M2": "M1", "L2": "L1"}


wildcard_constraints:
    seed=r"\d+",


def trained_variant(variant):
    return SAME_WEIGHTS.get(variant, variant)


def checkpoint(dataset, variant, seed):
    return f"{RESULTS}/train/{dataset}/{trained_variant(variant)}/seed{seed}/final.pth"


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
        root=lambda wildcards: dataset_root(wildcards.dataset),
        out=lambda wildcards, output: os.path.dirname(output[0]),
        overrides=" ".join(f"--set {item}" for item in TRAIN["set"]),
        launcher=TRAIN["launcher"],
    threads: TRAIN["threads"]
    resources:
        gpu=TRAIN["gpus"],
    shell:
        "{params.launcher} train --variant {wildcards.variant} --dataset {wildcards.dataset} --data-root {params.root} "
        "--out {params.out} --preset {PRESET} --seed {wildcards.seed} {params.overrides} 2> {log}"
