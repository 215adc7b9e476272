"""The demo: a realistic, seeded Polres Blitar dataset, loaded, evaluated and shown (``community-policing demo``)."""

from community_policing.demo.dataset import DemoDataset, generate

__all__ = ["DemoDataset", "generate"]
