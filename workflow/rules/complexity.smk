# Params and FLOPs of each variant under the paper's counting protocol (fvcore).


rule complexity:
    output:
        f"{RESULTS}/complexity/{{variant}}.json",
    log:
        f"{LOGS}/complexity/{{variant}}.log",
    benchmark:
        f"{TIMES}/complexity/{{variant}}.tsv"
    shell:
        "crosscbam complexity {wildcards.variant} --json > {output} 2> {log}"
