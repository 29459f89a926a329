"""The run itself: one model's benchmark in one process (backends, meters, energy arithmetic,
the report and its building, run settings, prompts, provenance). It imports nothing outside
this package, and its code (with the job layer's) is what the code digest and the engine image
hold."""
