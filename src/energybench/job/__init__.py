"""The job layer: one model's job around its run (isolation and runtimes, GPU locks,
supervision, secrets transport, the workflow guard, the history of attempts, tiny models)."""
