# Tiny random-weight models that the default config benchmarks (built offline, ~1 s each).


rule tiny_model:
    output:
        directory("resources/models/{model}"),
    log:
        "logs/tiny_model/{model}.log",
    conda:
        "../envs/benchmark.yaml"
    params:
        spec=lambda wildcards: model_config(wildcards)["tiny"],
    script:
        "../scripts/build_tiny_model.py"
