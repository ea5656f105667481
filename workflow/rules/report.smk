# Tables 2-6 (ours next to the paper's), the claims audit, the figures and the HTML report.

rule paper_table:
    input:
        lambda wildcards: table_inputs(wildcards.table),
    output:
        csv="reports/{table}.csv",
        md="reports/{table}.md",
    log:
        f"{LOGS}/report/{{table}}.log",
    wildcard_constraints:
        table="|".join(TABLES),
    params:
        preset=RUN,
    shell:
        "crosscbam report {wildcards.table} --preset {params.preset} --results {input} --csv {output.csv} --md {output.md} 2> {log}"


# The paper-side audit reads only package data (the paper's tables, claims.yaml, the cited facts about
# the authors' code), so it needs no training and runs in seconds on a fresh clone. Our results are
# joined in claims_ours, which depends on them and feeds only the HTML report.
rule claims:
    input:
        f"{PACKAGE}/claims.yaml",
        f"{PACKAGE}/claim_checks.py",
        f"{PACKAGE}/claim_arithmetic.py",
        f"{PACKAGE}/paper_values.yaml",
        f"{PACKAGE}/tables.py",  # with variants.py: which network each paper row is
        f"{PACKAGE}/variants.py",
        f"{PACKAGE}/authors_code.yaml",
    output:
        csv="reports/claims.csv",
        md="reports/claims.md",
    log:
        f"{LOGS}/report/claims.log",
    shell:
        "crosscbam report claims --csv {output.csv} --md {output.md} 2> {log}"


rule claims_ours:
    input:
        results=sorted({path for table in TABLES for path in table_inputs(table)}),
        ablation=[f"reports/{name}.csv" for name in ablation_reports()],
    output:
        csv="reports/claims_ours.csv",
        md="reports/claims_ours.md",
    log:
        f"{LOGS}/report/claims_ours.log",
    params:
        preset=RUN,
        ablation=lambda wildcards, input: f"--ablation {' '.join(input.ablation)}" if input.ablation else "",
    shell:
        "crosscbam report claims-ours --preset {params.preset} --results {input.results} {params.ablation} "
        "--csv {output.csv} --md {output.md} 2> {log}"


# Every training setting: the paper's text, the authors' config and the full preset's resolved recipe.
rule protocol:
    input:
        f"{PACKAGE}/protocol.yaml",
        f"{PACKAGE}/authors_code.yaml",
        f"{PACKAGE}/rivals.yaml",
        os.path.join(workflow.basedir, "config", "config.yaml"),
    output:
        csv="reports/protocol.csv",
        md="reports/protocol.md",
    log:
        f"{LOGS}/report/protocol.log",
    params:
        preset=PRESET,
        run=RUN,
        settings=run_settings(),
    shell:
        "crosscbam report protocol --preset {params.preset} --run {params.run} --settings {params.settings:q} "
        "--csv {output.csv} --md {output.md} 2> {log}"


rule complexity_summary:
    input:
        expand(f"{RESULTS}/complexity/{{variant}}.json", variant=list_variants()),
    output:
        csv="reports/complexity.csv",
        md="reports/complexity.md",
    log:
        f"{LOGS}/report/complexity.log",
    params:
        preset=RUN,
    shell:
        "crosscbam report complexity --preset {params.preset} --results {input} --csv {output.csv} --md {output.md} 2> {log}"


rule figure_qualitative:
    input:
        checkpoint=checkpoint(*qualitative_model(), FIRST_SEED),
        data=dataset_ready(qualitative_model()[0]),
    output:
        "reports/figures/fig7_qualitative.png",
    log:
        f"{LOGS}/report/fig7_qualitative.log",
    params:
        preset=RUN,
        dataset=qualitative_model()[0],
        root=dataset_root(qualitative_model()[0]),
        size="{} {}".format(*eval_size(qualitative_model()[1], qualitative_model()[0])),
        split=EVALUATE["split"][qualitative_model()[0]],
        label=shlex.quote(data_title(qualitative_model()[0])),
    shell:
        "crosscbam figure qualitative --checkpoint {input.checkpoint} --dataset {params.dataset} --data-root {params.root} "
        "--size {params.size} --split {params.split} --data-label {params.label} --preset {params.preset} --out {output} 2> {log}"


rule figure_ablation:
    input:
        checkpoints=[checkpoint(ablation_networks()[0], v, FIRST_SEED) for v in ablation_networks()[1]],
        data=dataset_ready(ablation_networks()[0]),
    output:
        "reports/figures/fig8_ablation.png",
    log:
        f"{LOGS}/report/fig8_ablation.log",
    params:
        preset=RUN,
        dataset=ablation_networks()[0],
        root=dataset_root(ablation_networks()[0]),
        size="{} {}".format(*eval_size(ablation_networks()[1][0] if ablation_networks()[1] else "M1", ablation_networks()[0])),
        split=EVALUATE["split"][ablation_networks()[0]],
        label=shlex.quote(data_title(ablation_networks()[0])),
        pairs=ablation_pairs(),
    shell:
        "crosscbam figure ablation --checkpoints {params.pairs} --dataset {params.dataset} --data-root {params.root} "
        "--size {params.size} --split {params.split} --data-label {params.label} --preset {params.preset} --out {output} 2> {log}"


rule ablation_report:
    input:
        lambda wildcards: seed_evaluations(wildcards.dataset, [network for _, network in ABLATION_STEPS[wildcards.dataset]
                                                               if network in experiment_variants(wildcards.dataset)]),
    output:
        csv="reports/ablation_{dataset}.csv",
        md="reports/ablation_{dataset}.md",
    log:
        f"{LOGS}/report/ablation_{{dataset}}.log",
    params:
        preset=RUN,
        scale=lambda wildcards: shlex.quote(ablation_scale(wildcards.dataset)),
    shell:
        "crosscbam report ablation --dataset {wildcards.dataset} --scale {params.scale} --preset {params.preset} "
        "--results {input} --csv {output.csv} --md {output.md} 2> {log}"


rule precision_report:
    input:
        candidate=lambda wildcards: seed_evaluations(wildcards.dataset, experiment_variants(wildcards.dataset)),
        reference=reference_evaluations,
    output:
        csv="reports/precision_{dataset}.csv",
        md="reports/precision_{dataset}.md",
    log:
        f"{LOGS}/report/precision_{{dataset}}.log",
    params:
        preset=RUN,
        scale=lambda wildcards: shlex.quote(ablation_scale(wildcards.dataset)),
    shell:
        "crosscbam report precision --preset {params.preset} --scale {params.scale} --results {input.candidate} "
        "--reference {input.reference} --csv {output.csv} --md {output.md} 2> {log}"


rule figure_speed_accuracy:
    input:
        "reports/table2.csv",
    output:
        "reports/figures/speed_accuracy.png",
    log:
        f"{LOGS}/report/speed_accuracy.log",
    params:
        preset=RUN,
    shell:
        "crosscbam figure scatter --table2 {input} --preset {params.preset} --out {output} 2> {log}"


rule figure_speed_ratios:
    input:
        [f"reports/{table}.csv" for table in SPEED_TABLES],
    output:
        "reports/figures/speed_ratios.png",
    log:
        f"{LOGS}/report/speed_ratios.log",
    params:
        preset=RUN,
    shell:
        "crosscbam figure ratios --tables {input} --preset {params.preset} --out {output} 2> {log}"


rule figure_training_curves:
    input:
        training_metrics("paths"),
    output:
        "reports/figures/training_curves.png",
    log:
        f"{LOGS}/report/training_curves.log",
    params:
        preset=RUN,
        metrics=training_metrics("pairs"),
    shell:
        "crosscbam figure curves --metrics {params.metrics} --preset {params.preset} --out {output} 2> {log}"


rule html_report:
    input:
        tables=[f"reports/{t}.csv" for t in [*TABLES, *SUMMARY_TABLES, "claims_ours", *ablation_reports(), *deployment_reports(), *precision_reports()]],
        markdown=[f"reports/{t}.md" for t in [*TABLES, *SUMMARY_TABLES, "claims_ours", *ablation_reports(), *deployment_reports(), *precision_reports()]],
        figures=[f"reports/figures/{f}.png" for f in FIGURES],
    output:
        "reports/report.html",
    log:
        f"{LOGS}/report/html.log",
    params:
        preset=RUN,
    shell:
        "crosscbam html --tables {input.tables} --figures {input.figures} --preset {params.preset} --out {output} 2> {log}"
