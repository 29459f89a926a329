# Tables and figures from the stored reports. The energybench modules that do the work are
# inputs too, so editing them remakes these outputs (and only these).
import energybench.aggregate
import energybench.plots


rule aggregate:
    input:
        reports=report_paths(),
        code=energybench.aggregate.__file__,
    output:
        table="results/tables/models.csv",
    log:
        "logs/aggregate.log",
    conda:
        "../envs/engine.yaml"
    script:
        "../scripts/aggregate.py"


rule figures:
    input:
        table=rules.aggregate.output.table,
        code=energybench.plots.__file__,
    output:
        png="results/figures/energy_per_1000_queries.png",
        pdf="results/figures/energy_per_1000_queries.pdf",
    log:
        "logs/figures.log",
    conda:
        "../envs/engine.yaml"
    script:
        "../scripts/plot_energy.py"
