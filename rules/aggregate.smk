# Tables and figures from the stored reports. The energybench modules that do the work are
# inputs too, so editing them remakes these outputs (and only these).
rule aggregate:
    input:
        reports=report_paths(),
        code=workflow_path("src/energybench/aggregate.py"),
    output:
        table=f"{RESULTS}/tables/models.csv",
    log:
        "logs/aggregate.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/aggregate.py"


rule figures:
    input:
        table=rules.aggregate.output.table,
        code=workflow_path("src/energybench/plots.py"),
    output:
        png=f"{RESULTS}/figures/energy_per_1000_queries.png",
        pdf=f"{RESULTS}/figures/energy_per_1000_queries.pdf",
    log:
        "logs/figures.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/plot_energy.py"


# AI Energy Score's formats (docs/aes.md): its master_results.csv; per run, the two files its
# summarizer writes; and a submission bundle (`snakemake aes_submission`; not part of `all`:
# an upload is a deliberate step).
rule aes_master_results:
    input:
        reports=report_paths(),
        code=workflow_path("src/energybench/aes/master_results.py"),
    output:
        table=f"{RESULTS}/tables/master_results.csv",
    log:
        "logs/aes_master_results.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/aes_master_results.py"


rule aes_run_files:
    input:
        report=f"{RESULTS}/runs/{{model}}/benchmark_report.json",
        code=workflow_path("src/energybench/aes/submission.py"),
    output:
        wh=f"{RESULTS}/runs/{{model}}/GPU_ENERGY_WH.txt",
        summary=f"{RESULTS}/runs/{{model}}/GPU_ENERGY_SUMMARY.json",
    log:
        "logs/aes_run_files/{model}.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/aes_run_files.py"


rule aes_submission:
    input:
        reports=report_paths(),
        run_files=expand(rules.aes_run_files.output.wh, model=MODELS),
        code=workflow_path("src/energybench/aes/submission.py"),
    output:
        bundle=f"{RESULTS}/aes/submission.zip",
    log:
        "logs/aes_submission.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/aes_submission.py"


# With `models_csv`, a record of the models the AES list resolved to (docs/aes.md).
rule aes_models:
    input:
        csv=config["models_csv"] or [],
        code=workflow_path("src/energybench/aes/model_list.py"),
    output:
        models=f"{RESULTS}/aes/models.yaml",
    params:
        skip_invalid=config["models_csv_skip_invalid"],
    log:
        "logs/aes_models.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/aes_models.py"
