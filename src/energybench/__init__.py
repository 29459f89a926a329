"""energybench: reproducible measurement of the energy of AI model inference."""

__version__ = "0.1.0"
