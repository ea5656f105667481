# Evaluation (Sec. 4.1-4.2): inference at the variant's size, scored on full-resolution labels, per
# seed; then mean +- std over seeds per table row.

rule evaluate:
    input:
        checkpoint=lambda wildcards: checkpoint(wildcards.dataset, wildcards.variant, wildcards.seed),
        data=lambda wildcards: dataset_ready(wildcards.dataset),
    output:
        f"{RESULTS}/eval/{{dataset}}/{{variant}}/seed{{seed}}.json",
    log:
        f"{LOGS}/eval/{{dataset}}/{{variant}}/seed{{seed}}.log",
    benchmark:
        f"{TIMES}/eval/{{dataset}}/{{variant}}/seed{{seed}}.tsv"
    params:
        root=lambda wildcards: dataset_root(wildcards.dataset),
        size=lambda wildcards: "{} {}".format(*eval_size(wildcards.variant, wildcards.dataset)),
        split=lambda wildcards: EVALUATE["split"][wildcards.dataset],
    threads: compute_threads()
    resources:
        gpu=min(TRAIN["gpus"], 1),
    shell:
        "crosscbam evaluate --checkpoint {input.checkpoint} --dataset {wildcards.dataset} --data-root {params.root} "
        "--size {params.size} --split {params.split} --out {output} 2> {log}"


rule aggregate_seeds:
    input:
        lambda wildcards: seed_evaluations(wildcards.dataset, [wildcards.variant]),
    output:
        f"{RESULTS}/eval/{{dataset}}/{{variant}}.json",
    log:
        f"{LOGS}/eval/{{dataset}}/{{variant}}.log",
    params:
        preset=RUN,
        data=lambda wildcards: shlex.quote(data_label(wildcards.dataset)),
    shell:
        "crosscbam aggregate --model {wildcards.variant} --results {input} --preset {params.preset} --data {params.data} "
        "--out {output} 2> {log}"
