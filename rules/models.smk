# Tiny random-weight models that the default config benchmarks (built offline, cheaply:
# docs/PERFORMANCE.md, section 8).


rule tiny_model:
    output:
        directory("resources/models/{model}"),
    log:
        "logs/tiny_model/{model}.log",
    conda:
        "../envs/benchmark.yaml"
    params:
        spec=per_model(TINY_SPECS),
        energybench=energybench_command,
    shell:
        "{params.energybench} tiny-model --spec {params.spec:q} --output {output:q} 2> {log:q}"
