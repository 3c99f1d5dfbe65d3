"""S3RNet Explorer: hyperspectral pansharpening with S3RNet (IGARSS 2025) and classical baselines."""

__version__ = "0.1.0"
