# The CPU engine image, built without any registry (debootstrap base + CPU torch wheel).
# Its id file is an input of every containerized benchmark job, so changing the image's
# sources rebuilds it and reruns those models, and nothing else does.


rule cpu_image:
    input:
        image_sources(),
    output:
        f"{RESULTS}/images/{{engine}}-cpu.id",
    wildcard_constraints:
        engine="docker|podman",
    params:
        repo=workflow_path(),
    log:
        "logs/images/{engine}-cpu.log",
    conda:
        "../envs/engine.yaml"
    script:
        "../scripts/build_image.py"
