"""bridge: a self-hosted federation bridge with an IAM-compatible policy engine."""

__version__ = "0.1.0"
