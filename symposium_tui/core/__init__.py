"""The pure domain: models, validation, policy and services. Never imports textual or podman."""
