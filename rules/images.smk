# The CPU benchmark image, built without any registry (debootstrap base + CPU torch wheel).
# Its id file is an input of every containerized benchmark job, so changing the image's
# sources (its files, and the benchmark's code as a digest param) rebuilds it and reruns
# those models, and nothing else does.


rule cpu_image:
    input:
        image_sources(),
    output:
        f"{RESULTS}/images/{{container_cli}}-cpu.id",
    log:
        "logs/images/{container_cli}-cpu.log",
    wildcard_constraints:
        container_cli="|".join(CONTAINER_RUNTIMES),
    conda:
        "../envs/benchmark.yaml"
    params:
        repo=workflow_path(),
        code=CODE_DIGEST,
    script:
        "../scripts/build_image.py"
