"""What the tests, benchmarks and screenshot scripts run against: isolated podman engines and a
loopback sshd. Not part of the product (not in the wheel)."""
