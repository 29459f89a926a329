# The static leaderboard site under results/site/: plain files that open from the file
# system or any static host. Rebuilt when a report, the ratings, a label, a figure it shows,
# the methodology docs or the site's own code changes.
rule site:
    input:
        collection=rules.reports.output.collection,
        ratings=rules.ratings.output.ratings,
        # Functions, not lists: Snakemake hashes a named list of files once for each file
        # of it when the rule names another rule's output (quadratic in the models:
        # docs/PERFORMANCE.md, section 2).
        labels=lambda wildcards: expand(f"{LABEL}.svg", model=REPORTED),
        timelines=lambda wildcards: expand(f"{TIMELINE}.png", model=REPORTED),
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
