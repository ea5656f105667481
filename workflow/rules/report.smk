# Tables of ours next to the paper's, as CSV with a Markdown twin.


rule complexity_table:
    input:
        lambda wildcards: expand(f"{RESULTS}/complexity/{{variant}}.json", variant=table_variants(wildcards.table)),
    output:
        csv="reports/{table}.csv",
        md="reports/{table}.md",
    log:
        f"{LOGS}/report/{{table}}.log",
    params:
        preset=PRESET,
    wildcard_constraints:
        table="|".join(COMPLEXITY_TABLES),
    shell:
        "crosscbam report {wildcards.table} --preset {params.preset} --results {input} "
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
        preset=PRESET,
    shell:
        "crosscbam report complexity --preset {params.preset} --results {input} "
        "--csv {output.csv} --md {output.md} 2> {log}"
