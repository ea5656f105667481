# Tables 2-6 (ours next to the paper's), the claims audit, the figures and the HTML report.
PAPER_TABLES = ["table2", "table3", "table4", "table5", "table6"]
TABLE_DATASET = {"table2": "cityscapes", "table3": "camvid", "table4": "cityscapes", "table5": "cityscapes", "table6": "cityscapes"}
FIGURES = ["fig7_qualitative", "fig8_ablation", "speed_accuracy", "training_curves"]
FIRST_SEED = TRAIN["seeds"][0]


def table_fps(variant):
    """The FPS record a table row shows: the preset's first backend, at its first size (else the paper's)."""
    height, width = SPEED["sizes"][0] if SPEED["sizes"] else get_variant(variant).eval_size
    return f"{RESULTS}/fps/{variant}_{height}x{width}.{SPEED['backends'][0]}.json"


def table_inputs(table):
    variants = table_variants(table)
    files = [evaluation(TABLE_DATASET[table], v) for v in variants]
    if table in ("table5", "table6"):
        files += [f"{RESULTS}/complexity/{v}.json" for v in variants]
    if "fps" in paper_table(table).columns:
        files += [table_fps(v) for v in variants]
    return files


def report_targets():
    tables = PAPER_TABLES + ["claims", "complexity", "fps"]
    return [f"reports/{t}.{ext}" for t in tables for ext in ("csv", "md")] + [f"reports/figures/{f}.png" for f in FIGURES] + ["reports/report.html"]


rule paper_table:
    input:
        lambda wildcards: table_inputs(wildcards.table),
    output:
        csv="reports/{table}.csv",
        md="reports/{table}.md",
    log:
        f"{LOGS}/report/{{table}}.log",
    wildcard_constraints:
        table="|".join(PAPER_TABLES),
    shell:
        "crosscbam report {wildcards.table} --preset {PRESET} --results {input} --csv {output.csv} --md {output.md} 2> {log}"


rule claims:
    input:
        sorted({path for table in PAPER_TABLES for path in table_inputs(table)}),
    output:
        csv="reports/claims.csv",
        md="reports/claims.md",
    log:
        f"{LOGS}/report/claims.log",
    shell:
        "crosscbam report claims --preset {PRESET} --results {input} --csv {output.csv} --md {output.md} 2> {log}"


rule complexity_summary:
    input:
        expand(f"{RESULTS}/complexity/{{variant}}.json", variant=list_variants()),
    output:
        csv="reports/complexity.csv",
        md="reports/complexity.md",
    log:
        f"{LOGS}/report/complexity.log",
    shell:
        "crosscbam report complexity --preset {PRESET} --results {input} --csv {output.csv} --md {output.md} 2> {log}"


rule figure_qualitative:
    input:
        checkpoint=checkpoint("cityscapes", "M1", FIRST_SEED),
        data=dataset_ready("cityscapes"),
    output:
        "reports/figures/fig7_qualitative.png",
    log:
        f"{LOGS}/report/fig7_qualitative.log",
    params:
        root=dataset_root("cityscapes"),
        size="{} {}".format(*eval_size("M1", "cityscapes")),
    shell:
        "crosscbam figure qualitative --checkpoint {input.checkpoint} --dataset cityscapes --data-root {params.root} "
        "--size {params.size} --preset {PRESET} --out {output} 2> {log}"


rule figure_ablation:
    input:
        checkpoints=[checkpoint("cityscapes", v, FIRST_SEED) for v in table_variants("table4")],
        data=dataset_ready("cityscapes"),
    output:
        "reports/figures/fig8_ablation.png",
    log:
        f"{LOGS}/report/fig8_ablation.log",
    params:
        root=dataset_root("cityscapes"),
        size="{} {}".format(*eval_size("M1", "cityscapes")),
        pairs=" ".join(f"{v}={checkpoint('cityscapes', v, FIRST_SEED)}" for v in table_variants("table4")),
    shell:
        "crosscbam figure ablation --checkpoints {params.pairs} --dataset cityscapes --data-root {params.root} "
        "--size {params.size} --preset {PRESET} --out {output} 2> {log}"


rule figure_speed_accuracy:
    input:
        "reports/table2.csv",
    output:
        "reports/figures/speed_accuracy.png",
    log:
        f"{LOGS}/report/speed_accuracy.log",
    shell:
        "crosscbam figure scatter --table2 {input} --preset {PRESET} --out {output} 2> {log}"


TRAINED = sorted({(TABLE_DATASET[t], trained_variant(v)) for t in PAPER_TABLES for v in table_variants(t)})


rule figure_training_curves:
    input:
        [checkpoint(dataset, variant, FIRST_SEED) for dataset, variant in TRAINED],
    output:
        "reports/figures/training_curves.png",
    log:
        f"{LOGS}/report/training_curves.log",
    params:
        # metrics.jsonl sits beside each final.pth (written by the same job)
        metrics=" ".join(f"{d}/{v}={os.path.dirname(checkpoint(d, v, FIRST_SEED))}/metrics.jsonl" for d, v in TRAINED),
    shell:
        "crosscbam figure curves --metrics {params.metrics} --preset {PRESET} --out {output} 2> {log}"


rule html_report:
    input:
        tables=[f"reports/{t}.csv" for t in PAPER_TABLES + ["claims", "complexity", "fps"]],
        markdown=[f"reports/{t}.md" for t in PAPER_TABLES + ["claims", "complexity", "fps"]],
        figures=[f"reports/figures/{f}.png" for f in FIGURES],
    output:
        "reports/report.html",
    log:
        f"{LOGS}/report/html.log",
    shell:
        "crosscbam html --tables {input.tables} --figures {input.figures} --preset {PRESET} --out {output} 2> {log}"
