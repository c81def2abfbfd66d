"""Model registries feed the inventory: MLflow (in and out); deliveries, mappings, write-back."""
