"""Snakemake script: each model's label and power timeline, drawn again where they changed."""

import logging
import sys
from pathlib import Path

sys.stderr = open(snakemake.log[0], "w")
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

from energybench.publish.paper.labels_and_timelines import (  # noqa: E402
    ModelFiles,
    draw_labels_and_timelines,
)

output = snakemake.output
files = {
    Path(svg).stem: ModelFiles([Path(svg), Path(png)], [Path(line), Path(pdf)])
    for svg, png, line, pdf in zip(
        output.label_svgs, output.label_pngs, output.timeline_pngs, output.timeline_pdfs
    )
}
draw_labels_and_timelines(
    snakemake.input.collection,
    snakemake.input.ratings,
    files,
    output.record,
    dict(snakemake.params.code),
)
