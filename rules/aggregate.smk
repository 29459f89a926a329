# Paper outputs from the stored reports: tables, star ratings, figures, labels; each with its
# caption in the HTML report (snakemake --report). The energybench modules that draw an
# output are inputs of its rule, so editing one remakes only what it draws.
# `snakemake paper --config paper=true` (paper mode) takes the reports already under
# results/runs/ and never runs a benchmark (the Snakefile then defines no benchmark rule).


# Every report, read and validated once, in one file that each rule over all the reports
# reads: one DAG edge per such rule instead of one per report (energybench.publish.paper.stored).
rule reports:
    input:
        reports=report_paths(),
        code=[f"{PAPER}/stored.py", workflow_path("src/energybench/job/history.py")],
    output:
        collection=f"{RESULTS}/reports.jsonl",
    log:
        "logs/paper/reports.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/collect_reports.py"


rule ratings:
    input:
        collection=rules.reports.output.collection,
        frozen=[CALIBRATION] if CALIBRATION else [],
        code=paper_code("ratings"),
    output:
        ratings=report(
            f"{RESULTS}/tables/ratings.csv",
            caption="../report/tables/ratings.rst",
            category="Comparisons",
            subcategory="Tables",
        ),
        calibration=f"{RESULTS}/tables/rating_calibration.json",
    log:
        "logs/paper/ratings.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/paper_ratings.py"


rule tables:
    input:
        collection=rules.reports.output.collection,
        ratings=rules.ratings.output.ratings,  # the stars column of models.tex
        code=paper_code("tables", "latex", "ranking")
        + [workflow_path("src/energybench/publish/paper/aggregate.py")],
    output:
        models=report(
            f"{RESULTS}/tables/models.csv",
            caption="../report/tables/models.rst",
            category="Comparisons",
            subcategory="Tables",
        ),
        trials=report(
            f"{RESULTS}/tables/trials.csv",
            caption="../report/tables/trials.rst",
            category="Measurement checks",
            subcategory="Tables",
        ),
        phases=report(
            f"{RESULTS}/tables/phases.csv",
            caption="../report/tables/phases.rst",
            category="Measurement checks",
            subcategory="Tables",
        ),
        latency=report(
            f"{RESULTS}/tables/latency.csv",
            caption="../report/tables/latency.rst",
            category="Comparisons",
            subcategory="Tables",
        ),
        checks=report(
            f"{RESULTS}/tables/checks.csv",
            caption="../report/tables/checks.rst",
            category="Measurement checks",
            subcategory="Tables",
        ),
        latex=report(
            f"{RESULTS}/tables/models.tex",
            caption="../report/tables/latex.rst",
            category="Comparisons",
            subcategory="Tables",
        ),
    log:
        "logs/paper/tables.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/paper_tables.py"


for module, name in FIGURES.items():

    rule:
        name:
            f"figure_{module}"
        input:
            collection=rules.reports.output.collection,
            ratings=rules.ratings.output.ratings if module == "energy" else [],
            code=paper_code(
                f"figures/{module}",
                "figures/selection",
                *(["ranking"] if module in ("energy", "pareto") else []),
            ),
        output:
            png=report(
                f"{RESULTS}/figures/{name}.png",
                caption=f"../report/figures/{module}.rst",
                category="Comparisons",
                subcategory="Figures",
            ),
            pdf=f"{RESULTS}/figures/{name}.pdf",
        log:
            f"logs/paper/{name}.log",
        conda:
            "../envs/aggregate.yaml"
        params:
            figure=module,
        script:
            "../scripts/paper_figure.py"


# Each model's label and power timeline, all in one job (one Python drawing them all: a job
# per model spent longer starting Python and matplotlib than drawing; docs/PERFORMANCE.md).
# The job draws again only the files whose report, rating, run timeline or code changed, or
# that are missing (energybench.publish.paper.labels_and_timelines, its record below); `update()`
# keeps the others in place, where Snakemake would delete a job's outputs before it runs.
LABEL = f"{RESULTS}/labels/{{model}}"
TIMELINE = f"{RESULTS}/figures/runs/{{model}}/power_timeline"


rule labels_and_timelines:
    input:
        collection=rules.reports.output.collection,
        ratings=rules.ratings.output.ratings,
    output:
        # Each file is named once more, by `all` and `paper` or by the site, and Snakemake
        # finds a named output by scanning this list up to it: the files `all` and `paper`
        # both name come first, so the two of them scan the shorter part.
        label_pngs=update(
            [
                per_model_report(f"{LABEL}.png", m, "label", "../report/label.rst")
                for m in REPORTED
            ]
        ),
        timeline_pdfs=update(expand(f"{TIMELINE}.pdf", model=REPORTED)),
        record=update(f"{RESULTS}/figures/runs/drawn.json"),
        label_svgs=update(expand(f"{LABEL}.svg", model=REPORTED)),
        timeline_pngs=update(
            [
                per_model_report(
                    f"{TIMELINE}.png",
                    m,
                    "power timeline",
                    "../report/figures/power_timeline.rst",
                )
                for m in REPORTED
            ]
        ),
    log:
        "logs/paper/labels_and_timelines.log",
    conda:
        "../envs/aggregate.yaml"
    params:
        code={
            "label": paper_code_digest("labels", "hardware", "links", "labels_and_timelines"),
            "timeline": paper_code_digest("figures/timeline", "labels_and_timelines"),
        },
    script:
        "../scripts/paper_labels_and_timelines.py"


# AI Energy Score's formats (docs/aes.md): its master_results.csv; per run, the two files its
# summarizer writes; and a submission bundle (`snakemake aes_submission`; not part of `all`:
# an upload is a deliberate step).
rule aes_master_results:
    input:
        collection=rules.reports.output.collection,
        code=[workflow_path("src/energybench/aes/master_results.py"), f"{PAPER}/build.py"],
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
    output:
        wh=f"{RESULTS}/runs/{{model}}/GPU_ENERGY_WH.txt",
        summary=f"{RESULTS}/runs/{{model}}/GPU_ENERGY_SUMMARY.json",
    log:
        "logs/aes_run_files/{model}.log",
    conda:
        "../envs/aggregate.yaml"
    params:
        run_dir=lambda wildcards, output: os.path.dirname(output.wh),
        # The shown report (stored.py): an earlier attempt's in place of a failed rerun.
        code=step_code_digest([workflow_path("src/energybench/aes/submission.py"),
                               workflow_path("src/energybench/publish/paper/stored.py")]),
        energybench=energybench_command,
    shell:
        "{params.energybench} aes-run-files --report {input.report:q} --run-dir {params.run_dir:q} 2> {log:q}"


rule aes_submission:
    input:
        reports=report_paths(),
        # A function: see the site rule.
        run_files=lambda wildcards: expand(rules.aes_run_files.output.wh, model=MODELS),
        code=[workflow_path("src/energybench/aes/submission.py"),
              workflow_path("src/energybench/publish/paper/stored.py")],
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
        code=workflow_path("src/energybench/plan/aes_model_list.py"),
    output:
        models=f"{RESULTS}/aes/models.yaml",
    log:
        "logs/aes_models.log",
    conda:
        "../envs/aggregate.yaml"
    params:
        skip_invalid=config["models_csv_skip_invalid"],
        aes_reasoning=config["aes_reasoning"],
    script:
        "../scripts/aes_models.py"


PAPER_OUTPUTS = [
    *rules.tables.output,
    *rules.ratings.output,
    *rules.aes_master_results.output,
    *(
        f"{RESULTS}/figures/{name}.{ext}"
        for name in FIGURES.values()
        for ext in ("png", "pdf")
    ),
    # Each model's files that the site does not take (rules/site.smk: a target names each
    # file, or Snakemake does not remake it when it is lost).
    *rules.labels_and_timelines.output.label_pngs,
    *rules.labels_and_timelines.output.timeline_pdfs,
    rules.labels_and_timelines.output.record,
]


rule paper:
    input:
        paper_target_inputs,
