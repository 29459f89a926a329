"""The settings of one benchmarked model, declared once as typed models: each field, its type,
its limits, its description and which fields go together.

schemas/model_settings.schema.json and schemas/measurement.schema.json are generated from
these models (energybench.run.json_schemas), and that schema is the one validator of the
settings: Snakemake's ``validate`` and the checks of config.yaml and models.yaml read it when
the workflow is parsed, and a hand-written run config is checked against it
(energybench.run.settings.RunConfig.validated). The run's typed config takes its field names
and which fields a resolved run config must have from here.

A field without a default here is one every resolved run config has (config.yaml's
``defaults`` give what a model entry leaves out); a model entry may leave out any field. The
blocks' defaults are declared here too (`VLLMBlock`, `ImageGeneration`), and their owners'
settings types extend them (energybench.run.backends.vllm.settings.VLLMSettings, the image
task's ``ImageSettings``), filling a field left out when they read the block. The schema
carries no ``default`` keywords, so that Snakemake's ``validate`` never writes a default into
the resolved settings (a default then changes no run config, nor any digest).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class SettingsBlock(BaseModel):
    """A block of settings: frozen, and refusing keys it does not name. A field whose type
    has no None but whose default is None may be left out, never written as null (the
    generated schema refuses a null there)."""

    # Built when first used: a plan validates with the generated schema, not with these.
    model_config = ConfigDict(
        frozen=True, extra="forbid", protected_namespaces=(), defer_build=True
    )


def _not_with(reason: str) -> dict:
    return {"not": {"description": reason}}


LLAMA_ONLY = ("hidden_size", "num_layers", "num_heads", "intermediate_size", "labels")
"""The tiny model's fields a tiny diffusion pipeline does not take."""


class Tiny(SettingsBlock):
    """Build this model locally under resources/models/<key> (offline test models): a
    random-weight Llama-architecture causal LM (a sequence classifier with `labels`, for
    text_classification), or with kind diffusion a random-weight Stable Diffusion pipeline
    (small UNet, VAE and CLIP text encoder; energybench.job.tiny_diffusion), which takes only
    seed and vocab_size."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["kind"], "properties": {"kind": {"const": "diffusion"}}},
            "then": {"properties": dict.fromkeys(LLAMA_ONLY, False)},
        }
    )

    kind: Literal["llama", "diffusion"] = Field(
        None, description="llama (the default): a causal LM; diffusion: a text-to-image pipeline."
    )
    hidden_size: int = Field(None, ge=64)
    num_layers: int = Field(None, ge=1)
    num_heads: int = Field(None, ge=1)
    intermediate_size: int = Field(None, ge=1)
    vocab_size: int = Field(None, ge=300)
    seed: int = None
    labels: int = Field(
        None,
        ge=2,
        description="Build a sequence classifier with this many labels (task "
        "text_classification) instead of a causal LM.",
    )


class ImageGeneration(SettingsBlock):
    """Settings of a `task: image_generation` model (docs/energy.md); a field left out keeps
    the pipeline's default."""

    steps: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="Denoising steps (num_inference_steps); null: the pipeline's default.",
    )
    height: int | None = Field(
        None,
        ge=8,
        le=8192,
        description="Image height in pixels, a multiple of what the model's VAE needs (8 for "
        "Stable Diffusion, 16 for FLUX-like transformers); null: the pipeline's "
        "default.",
    )
    width: int | None = Field(None, ge=8, le=8192, description="Image width in pixels (as height).")
    guidance_scale: float | None = Field(
        None,
        ge=0,
        le=100,
        description="Classifier-free guidance scale; null: the pipeline's default.",
    )
    images_per_prompt: int = Field(
        1, ge=1, le=64, description="Images generated per prompt (num_images_per_prompt)."
    )
    save_images: bool = Field(
        False,
        description="Write the first pass's images of each trial to "
        "results/runs/<model>/images/ (after the measured window).",
    )


class ReasoningParams(SettingsBlock):
    """The reasoning parameters handed to the chat template."""

    reasoning_effort: Literal["low", "medium", "high"] = None
    enable_thinking: bool = None
    reasoning: bool = Field(
        None,
        description="A generic switch handed to the chat template, as AI Energy Score's "
        "runner passes it (SmolLM3, Phi-4).",
    )


MANAGED = "managed"
EXTERNAL = "external"
MANAGED_ONLY = (
    "max_model_len",
    "max_num_seqs",
    "tensor_parallel_size",
    "gpu_memory_utilization",
    "cpu_kvcache_space_gib",
    "extra_args",
    "startup_timeout_s",
)
"""The `vllm` fields of a managed server, refused with mode external."""
_ENDPOINT_CREDENTIALS = {
    "pattern": "^[^:/?#]+://[^/?#]*@|[?#]",
    "description": "credentials in the endpoint URL (user:password@ or a name@ before the "
    "host, a query string or a fragment), which would be stored and published "
    "with the settings: give the base URL alone (e.g. http://gpu-host:8000/v1) "
    "and the key through vllm.api_key_env, the NAME of the environment "
    "variable holding it",
}


class VLLMBlock(SettingsBlock):
    """Serving settings of a `backend: vllm` model (docs/vllm.md). A field left out takes the
    default declared here (energybench.run.backends.vllm.settings.VLLMSettings reads the block
    with them)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"mode": {"const": EXTERNAL}}, "required": ["mode"]},
            "then": {
                "required": ["endpoint"],
                "properties": dict.fromkeys(
                    MANAGED_ONLY, _not_with("a managed server's setting: not with mode external")
                ),
            },
            "else": {
                "properties": {
                    "endpoint": _not_with("only with mode external"),
                    "api_key_env": _not_with("only with mode external"),
                    "meter_devices": _not_with(
                        "only with mode external (a managed server's GPUs are the run's)"
                    ),
                }
            },
        }
    )

    mode: Literal["managed", "external"] = Field(
        MANAGED,
        description="managed: the run starts and stops a vLLM server for `id`; "
        "external: the run sends its load to `endpoint`, served by "
        "whatever runs there.",
    )
    endpoint: str = Field(
        None,
        pattern="^https?://",
        examples=["http://gpu-host:8000/v1"],
        json_schema_extra={"not": _ENDPOINT_CREDENTIALS, "x-never-echo": True},
        description="external: base URL of the OpenAI-compatible API, e.g. "
        "http://host:8000/v1 (with or without /v1).",
    )
    api: Literal["completions", "chat"] = Field(
        "completions",
        description="completions: the prompt as given; chat: the server "
        "applies the model's chat template.",
    )
    concurrency: int = Field(8, ge=1, description="Most requests in flight at once.")
    request_rate: float | None = Field(
        None,
        gt=0,
        description="Mean requests per second (Poisson arrivals, seeded by "
        "`seed`); null: all at once.",
    )
    max_failure_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of failed requests above which the run is marked failed.",
    )
    request_timeout_s: float = Field(
        300.0, gt=0, description="Limit of one request, from sending to the end of its stream."
    )
    served_model_name: str = Field(
        None,
        min_length=1,
        description="Name the server serves the model under. Default: the model key "
        "(managed), `id` (external).",
    )
    meter_devices: tuple[int | str, ...] | None = Field(
        None,
        min_length=1,
        description="mode external with an endpoint on this machine (localhost, 127.0.0.1, "
        "::1): the GPUs of this machine that serve it (indices or UUIDs), metered "
        "as the run's GPU energy, as AI Energy Score meters local GPUs; CPU and "
        "RAM stay unmetered (shared with the load generator). null: nothing is "
        "metered.",
    )
    api_key_env: str = Field(
        None,
        pattern="^[A-Za-z_][A-Za-z0-9_]{0,127}$",
        examples=["VLLM_API_KEY"],
        json_schema_extra={"x-never-echo": True},
        description="external: NAME of the environment variable that holds the API key; the "
        "key is read inside the job and never stored.",
    )
    max_model_len: int = Field(None, ge=1, description="managed: vLLM --max-model-len.")
    max_num_seqs: int = Field(
        None,
        ge=1,
        description="managed: vLLM --max-num-seqs (how many sequences the server "
        "decodes at once: also caps the load's steady state).",
    )
    tensor_parallel_size: int = Field(
        None, ge=1, description="managed: vLLM --tensor-parallel-size."
    )
    gpu_memory_utilization: float = Field(
        None, gt=0, le=1, description="managed: vLLM --gpu-memory-utilization."
    )
    cpu_kvcache_space_gib: float = Field(
        None,
        gt=0,
        description="managed: KV cache of vLLM's CPU backend "
        "(VLLM_CPU_KVCACHE_SPACE); without it the CPU backend reserves "
        "most of the RAM. GPU builds ignore it.",
    )
    extra_args: tuple[str, ...] = Field(
        (), description="managed: further arguments of vLLM's OpenAI API server, passed as given."
    )
    startup_timeout_s: float = Field(
        600.0, gt=0, description="managed: how long the server may take to answer /health."
    )


class Quantization(SettingsBlock):
    """Quantize the weights as the model loads (pytorch backend; docs/energy.md §9): method
    quanto (optimum-quanto through transformers' QuantoConfig), weights int8 or int4;
    activations keep `dtype`. null: the checkpoint's weights as they are."""

    method: Literal["quanto"] = Field(
        description="quanto: optimum-quanto, weight-only, on the CPU and CUDA."
    )
    weights: Literal["int8", "int4"] = Field(
        description="The weights' type: int8 (8 bits) or int4 (4 bits)."
    )


class Isolation(SettingsBlock):
    """How the job layer isolates the run (energybench.job.model_job,
    energybench.job.isolation): the run itself reads none of it. These are top-level fields
    of a model's settings (`ModelSettings` extends this model)."""

    runtime: Literal["auto", "process", "docker", "podman", "apptainer"] = Field(
        description="How the run is isolated: a plain process, a container (docker, podman; "
        "apptainer on clusters), or auto (docker where a daemon answers, else "
        "process). Resolved once, when the workflow is parsed (`auto` only in a "
        "hand-written run config)."
    )
    gpus: Annotated[int, Field(ge=0)] | Literal["auto"] = Field(
        description="GPUs the run needs (the Snakemake resource `gpu`). auto: where the "
        "machine that runs the jobs has GPUs (node_gpus), what the backend needs "
        "(pytorch: 1; vllm: tensor_parallel_size, none for an external endpoint), "
        "unless device is cpu; else none."
    )
    image: str | None = Field(
        None,
        min_length=1,
        description="Container image (tag or id; a .sif file for apptainer). null: the CPU "
        "image the pipeline builds (docker, podman).",
    )
    cpus: float | None = Field(
        None, gt=0, description="CPU limit of the container (docker, podman)."
    )
    memory: str | None = Field(
        None,
        pattern="^[0-9]+[bkmgBKMG]?$",
        examples=["16g"],
        description="Memory limit of the container, e.g. 16g (docker, podman).",
    )
    timeout_s: float | None = Field(
        None,
        gt=0,
        description="Wall-clock limit of the whole run (loading, baseline, warm-up, trials) "
        "in seconds: the isolation layer stops a run past it and writes a failed "
        "report naming the timeout. null: no limit.",
    )

    @classmethod
    def from_run_config(cls, run_config: Mapping) -> Isolation:
        """The isolation settings of a run config checked against the settings' schema when
        it was read (so taken as they are, not checked again)."""
        return cls.model_construct(**{name: run_config.get(name) for name in cls.model_fields})


class ModelSettings(Isolation):
    """Settings of one benchmarked model."""

    model_config = ConfigDict(
        json_schema_extra={
            "title": "Settings of one benchmarked model",
            "description": "Used for each entry of config/models.yaml, for `defaults` in "
            "config/config.yaml, and for the resolved run config a benchmark run "
            "receives.",
            "dependentRequired": {"vllm": ["backend"], "image_generation": ["task"]},
            "allOf": [
                {
                    "if": {"required": ["vllm"]},
                    "then": {
                        "properties": {
                            "backend": {
                                "const": "vllm",
                                "description": "A `vllm` block belongs to a `backend: vllm` model.",
                            }
                        }
                    },
                },
                {
                    "if": {"required": ["image_generation"]},
                    "then": {
                        "properties": {
                            "task": {
                                "const": "image_generation",
                                "description": "An `image_generation` block belongs to a "
                                "`task: image_generation` model.",
                            }
                        }
                    },
                },
            ],
        }
    )

    id: str = Field(
        min_length=1, description="Hugging Face model id (org/name) or a local model directory."
    )
    tiny: Tiny = None
    backend: Literal["pytorch", "vllm"] = Field(
        description="Inference backend: pytorch (transformers generate in the run's process) "
        "or vllm (an OpenAI-compatible vLLM server, see `vllm`)."
    )
    task: Literal["text_generation", "image_generation", "text_classification"] = Field(
        description="What the model does (energybench.run.tasks): text_generation (a unit of "
        "work is a query), image_generation (an image; a diffusers pipeline on "
        "the pytorch backend, settings in `image_generation`) or "
        "text_classification (a query is a text a sequence-classification model "
        "labels; pytorch backend; docs/energy.md §10)."
    )
    image_generation: ImageGeneration = None
    model_class: Literal["A", "B", "C"] = Field(
        alias="class",
        description="AI Energy Score hardware class: A (fits one consumer GPU), B (one "
        "datacenter GPU), C (several GPUs).",
    )
    reasoning: bool = Field(
        description="Reasoning (thinking) mode; when on, output length is not fixed."
    )
    reasoning_params: ReasoningParams
    vllm: VLLMBlock = None
    dtype: Literal["auto", "float32", "float16", "bfloat16"]
    quantization: Quantization | None = None
    device: Literal["auto", "cpu", "cuda"] = Field(
        description="auto: cuda where available, else cpu."
    )
    batch_size: int = Field(ge=1)
    max_new_tokens: int = Field(ge=1)
    min_new_tokens: int | None = Field(
        None, ge=0, description="null: equal to max_new_tokens unless reasoning is on."
    )
    num_prompts: int = Field(ge=1)
    warmup_prompts: int = Field(ge=0)
    dataset: str = Field(
        min_length=1,
        description="Local JSONL/JSON/CSV/Parquet file, or a Hugging Face dataset name.",
    )
    dataset_column: str = Field(min_length=1)
    dataset_split: str = Field(min_length=1)
    seed: int
    temperature: float | None = Field(
        None,
        gt=0,
        description="null: greedy decoding; a number: sampling at that "
        "temperature, seeded by `seed` (the AI Energy Score protocol "
        "samples at 0.7).",
    )
    prompt_prefix: str = Field(
        None,
        description="Text put before every prompt, e.g. a directive a model's card asks "
        "for (`/think `); imported from an AI Energy Score list's "
        "chat-template cell.",
    )
    reasoning_state: str | None = Field(
        None,
        description="The AI Energy Score model list's reasoning-state text (e.g. "
        "`On (High)`), shown in its tables; null: On/Off from `reasoning`.",
    )
    priority: int | None = Field(
        None,
        ge=1,
        description="The AI Energy Score model list's priority (1 = high); "
        "selectable with `select`.",
    )
    aes_reasoning: Literal["effective", "stated", None] = Field(
        None,
        description="How a row of an AI Energy Score list was read: effective = as "
        "AES's runner runs it, stated = as its reasoning state says "
        "(docs/aes.md); set by the import (`aes_reasoning`), recorded in "
        "the report.",
    )
    prompt_overflow: Literal["refuse", "truncate", None] = Field(
        None,
        description="A prompt whose tokens and max_new_tokens exceed the model's "
        "context: refuse (the default: the run fails before measuring, "
        "naming the prompts) or truncate (its start is kept; the report "
        "counts them in provenance.backend.prompts_truncated). pytorch "
        "backend.",
    )
    protocol: str | None = Field(
        None,
        description="The generation protocol preset these settings come from (`aes`), "
        "recorded in the report and the tables; set by `preset`, not by "
        "hand.",
    )
    trials: int | None = Field(
        None, ge=1, description="Repetitions of the measured part; null: 3 on a GPU, 1 on the CPU."
    )


def setting_name(name: str) -> str:
    """A field's name as the settings spell it (``class``, not ``model_class``)."""
    return ModelSettings.model_fields[name].alias or name


SETTINGS = tuple(map(setting_name, ModelSettings.model_fields))
"""Every field of a model's settings, as written."""
REQUIRED_SETTINGS = tuple(
    setting_name(name) for name, field in ModelSettings.model_fields.items() if field.is_required()
)
"""The fields every resolved run config has."""
ISOLATION_FIELDS = tuple(Isolation.model_fields)


class Measurement(SettingsBlock):
    """Set in config.yaml (its values are the defaults; the schema only checks them)."""

    idle_seconds: float = Field(
        ge=0,
        description="Seconds of idle power measured before the run (baseline), after "
        "the GPUs settle; longer where the meters need it to resolve idle "
        "power to 1 %, 20 s with the NVML counter.",
    )
    sample_hz: float = Field(gt=0, description="Background power sampling rate.")
    carbon_intensity_g_per_kwh: float = Field(
        ge=0, description="Grid carbon intensity used for CO2 figures (no network lookup)."
    )
    cooldown_timeout_s: float = Field(
        ge=0, description="Between trials, wait at most this long for GPU temperatures to settle."
    )
