# One isolated run per model. The resolved settings arrive as a param, so editing one model's
# entry reruns that model only; models.yaml itself is deliberately not an input.


rule benchmark:
    input:
        unpack(benchmark_inputs),
    output:
        report="results/runs/{model}/benchmark_report.json",
    params:
        run_config=model_config,
    resources:
        gpu=lambda wildcards: model_config(wildcards)["gpus"],
    log:
        "logs/benchmark/{model}.log",
    conda:
        "../envs/engine.yaml"
    script:
        "../scripts/run_benchmark.py"
