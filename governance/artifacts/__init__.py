"""Framework-free inspection of model files: facts read from bytes, never by loading a model."""
