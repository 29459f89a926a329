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
        unpack(benchmark_inputs),
    output:
        report=f"{RESULTS}/runs/{{model}}/benchmark_report.json",
    log:
        "logs/benchmark/{model}.log",
    conda:
        "../envs/benchmark.yaml"
    resources:
        gpu=lambda wildcards: RESOURCES[wildcards.model]["gpu"],
        endpoint=lambda wildcards: RESOURCES[wildcards.model]["endpoint"],
    params:
        settings=lambda wildcards: SETTINGS[wildcards.model],
        code=run_code,
        # Derived from the params and the input: not compared by Snakemake's rerun trigger
        # beyond what they are derived from.
        settings_file=lambda wildcards, input: SETTINGS_FILES[wildcards.model],
        image_id_file=lambda wildcards, input: input.get("image_id", ""),
    shell:
        step(
            "benchmark --settings {params.settings_file:q} --gpus {resources.gpu}"
            " --report {output.report:q}"
            " --log {log:q} --image-id-file={params.image_id_file:q}"
        )
