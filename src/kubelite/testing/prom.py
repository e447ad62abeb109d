"""Reading a Prometheus text scrape in tests, with prometheus_client's own parser.

``Scrape(text).value("apiserver_request_total", verb="POST", code="201")`` sums every
sample of that name whose labels include the given ones (0.0 when none match), so a test
compares two scrapes without caring about the other labels.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


class Scrape:
    """One parsed scrape; parsing fails loudly on anything not in the text format."""

    def __init__(self, text: str) -> None:
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: list[Sample] = [s for f in self.families.values() for s in f.samples]

    def matching(self, metric: str, /, **labels: str) -> list[Sample]:
        return [s for s in self.samples if s.name == metric
                and all(s.labels.get(k) == v for k, v in labels.items())]

    def value(self, metric: str, /, **labels: str) -> float:
        return sum(s.value for s in self.matching(metric, **labels))

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.samples)
