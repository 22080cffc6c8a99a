"""Batch manifests: YAML with positions, schema validation, templating, matrices."""
