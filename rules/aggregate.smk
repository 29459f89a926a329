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
