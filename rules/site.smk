# The static leaderboard site under results/site/: plain files that open from the file
# system or any static host. Rebuilt when a report or the site's own code changes. The
# ratings table, labels and per-run figures are used where they exist; the pages say what
# is missing and why.
rule site:
    input:
        reports=report_paths(),
        code=site_sources(),
    output:
        site=directory(f"{RESULTS}/site"),
    params:
        ratings=f"{RESULTS}/tables/ratings.csv",
        labels=f"{RESULTS}/labels",
        figures=f"{RESULTS}/figures/runs",
    log:
        "logs/site.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/build_site.py"
