# The static leaderboard site under results/site/: plain files that open from the file
# system or any static host. Rebuilt when a report, the ratings, a label, a figure it shows,
# the methodology docs or the site's own code changes.
rule site:
    input:
        # Each model's SVG label and PNG timeline, unnamed (scripts/build_site.py picks them
        # out): Snakemake links an unnamed item of another rule's output to that rule, but
        # finds the rule of an item of a named list by matching every output of it, quadratic
        # in the models (docs/PERFORMANCE.md). Named here only, not again by `all`.
        rules.labels_and_timelines.output.label_svgs,
        rules.labels_and_timelines.output.timeline_pngs,
        collection=rules.reports.output.collection,
        ratings=rules.ratings.output.ratings,
        # The PNGs the pages show, not the PDFs or the figures' code. Snakemake compares an
        # input of up to 1 MB by its checksum, so a figure file rewritten unchanged rebuilds
        # no site in a later run; a redrawn figure rebuilds it once.
        comparisons=lambda wildcards: [
            f"{RESULTS}/figures/{name}.png" for name in FIGURES.values()
        ],
        methodology=[workflow_path(f"docs/{name}.md") for name in ("energy", "paper")],
        code=site_sources(),
    output:
        site=directory(f"{RESULTS}/site"),
    log:
        "logs/site.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/build_site.py"
