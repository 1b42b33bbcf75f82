"""The podman adapter: the only package that talks to podman."""
