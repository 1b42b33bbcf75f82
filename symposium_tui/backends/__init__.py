"""Engine backends: each package here drives one kind of engine behind core's TaskspaceBackend."""
