# One isolated run per model. The resolved settings are a param, so editing one model's entry
# reruns that model only; models.yaml itself is deliberately not an input. The step reads its
# settings from one file of every model's (written at parse time), not from its command line,
# which Snakemake prints.
# A model's backend declares the resources its job takes beyond its GPUs: a model whose load
# goes to an external endpoint takes one `endpoint` slot, and `--resources endpoint=1` keeps
# two runs from loading (and so measuring) endpoints at the same time.
from energybench.backends import job_resources
from energybench.config import write_run_configs

RUN_CONFIGS = str(write_run_configs(MODELS, f"{RESULTS}/run_configs.json"))


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
        gpu=lambda wildcards: job_resources(model_config(wildcards))["gpu"],
        endpoint=lambda wildcards: job_resources(model_config(wildcards))["endpoint"],
    params:
        run_config=model_config,
        run_configs=RUN_CONFIGS,
        # Derived from the input: not a param Snakemake's rerun trigger compares.
        image_id_file=lambda wildcards, input: input.get("image_id", ""),
    shell:
        step(
            "benchmark --run-configs {params.run_configs:q} --model {wildcards.model}"
            " --report {output.report:q} --log {log:q}"
            " --image-id-file={params.image_id_file:q}"
        )
