"""What runs while Snakemake parses the workflow: loading and checking the configuration,
model selection and keys, the code digest, planned and campaign settings, the AES list import."""
