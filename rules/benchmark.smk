# One isolated run per model. The resolved settings arrive as a param, so editing one model's
# entry reruns that model only; models.yaml itself is deliberately not an input.
# A model served by an external endpoint takes one `endpoint` slot: `--resources endpoint=1`
# keeps two runs from loading (and so measuring) endpoints at the same time.
from energybench.backends.vllm.settings import uses_external_endpoint


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
        gpu=lambda wildcards: model_config(wildcards)["gpus"],
        endpoint=lambda wildcards: int(uses_external_endpoint(model_config(wildcards))),
    params:
        run_config=model_config,
    script:
        "../scripts/run_benchmark.py"
