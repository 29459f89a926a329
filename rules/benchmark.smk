# One isolated run per model. Its settings are a param (canonical text), so a real change of
# one model's settings reruns that model only, and restating a value reruns nothing;
# models.yaml itself is deliberately not an input. The job reads exactly the planned settings
# from a file named by their digest (energybench.plan.planned), not from its command line, which
# Snakemake prints.
# A model's backend declares the resources its job takes beyond its GPUs: a model whose load
# goes to an external endpoint takes one `endpoint` slot, and `--resources endpoint=1` keeps
# two runs from loading (and so measuring) endpoints at the same time.


rule benchmark:
    input:
        unpack(per_model(BENCHMARK_INPUTS)),
    output:
        report=f"{RESULTS}/runs/{{model}}/benchmark_report.json",
    log:
        "logs/benchmark/{model}.log",
    conda:
        "../envs/benchmark.yaml"
    resources:
        gpu=same_or_per_model({key: taken["gpu"] for key, taken in RESOURCES.items()}),
        endpoint=same_or_per_model(
            {key: taken["endpoint"] for key, taken in RESOURCES.items()}
        ),
    params:
        settings=per_model(SETTINGS),
        code=same_or_per_model(BENCHMARK_CODE),
        # Derived from the params and the input: not compared by Snakemake's rerun trigger
        # beyond what they are derived from.
        settings_file=per_model(SETTINGS_FILES, deriving=True),
        image_id_file=per_model(IMAGE_ID_FILES, deriving=True),
        energybench=energybench_command,
    shell:
        "{params.energybench} benchmark --settings {params.settings_file:q} --gpus {resources.gpu}"
        " --report {output.report:q}"
        " --log {log:q} --image-id-file={params.image_id_file:q}"
