"""The demo: a realistic, seeded Polres Blitar dataset, loaded, evaluated and shown (``community-policing demo``).

`generate` makes the dataset (used by the demo, the tests and the benchmark), `stream` the same dataset a line at a
time for sizes that would not fit in memory; `build_demo` loads it into a store of its own, evaluates it with
`DEMO_RULES` and writes the HTML report.
"""

from community_policing.demo.build import (
    DEFAULT_DIRECTORY,
    DEMO_RULES,
    MAX_OFFICER_DAYS,
    Demo,
    build_demo,
    check_size,
    demo_secret,
)
from community_policing.demo.dataset import (
    DEFAULT_DAYS,
    DEFAULT_OFFICERS,
    DEFAULT_SEED,
    DISTRICTS,
    KOTA_DISTRICTS,
    PROGRAMME_START,
    DemoDataset,
    DemoStream,
    generate,
    stream,
)

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_DIRECTORY",
    "DEFAULT_OFFICERS",
    "DEFAULT_SEED",
    "DEMO_RULES",
    "DISTRICTS",
    "KOTA_DISTRICTS",
    "MAX_OFFICER_DAYS",
    "PROGRAMME_START",
    "Demo",
    "DemoDataset",
    "DemoStream",
    "build_demo",
    "check_size",
    "demo_secret",
    "generate",
    "stream",
]
