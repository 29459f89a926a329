"""The vLLM backend and everything it needs, in one package.

- `backend`: the backend itself (warm-up and trials over the OpenAI API; managed or external);
- `settings`: the model's `vllm` block, one type (`VLLMSettings`) holding its defaults;
- `server`: the managed vLLM server, a child process for the length of a run;
- `endpoint`: the server's URLs, and a GET of its own routes;
- `loadgen`: the streaming load generator and its per-request records.

Kept free of imports so that the workflow can read the settings without loading aiohttp.
"""
