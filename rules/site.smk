# The static leaderboard site under results/site/: plain files that open from the file
# system or any static host. Rebuilt when a report, the ratings, a label, a power timeline
# or the site's own code changes.
rule site:
    input:
        collection=rules.reports.output.collection,
        ratings=rules.ratings.output.ratings,
        labels=expand(rules.label.output.svg, model=REPORTED),
        timelines=expand(rules.power_timeline.output.png, model=REPORTED),
        code=site_sources(),
    output:
        site=directory(f"{RESULTS}/site"),
    log:
        "logs/site.log",
    conda:
        "../envs/aggregate.yaml"
    script:
        "../scripts/build_site.py"
