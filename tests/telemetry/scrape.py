"""Reading /metrics as Prometheus does: samples by name and labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

Labels = frozenset[tuple[str, str]]


class Scrape:
    """One answer of /metrics: its families, and each sample by name and labels."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {family.name: family for family in text_string_to_metric_families(text)}
        self.samples: dict[tuple[str, Labels], float] = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in self.families.values()
            for sample in family.samples
        }

    def value(self, name: str, **labels: str) -> float:
        """The sample with exactly these labels; 0 when the series does not exist yet."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, where: Mapping[str, str] | None = None) -> float:
        """The sum of the samples of `name` whose labels include `where`."""
        wanted = set((where or {}).items())
        return sum(
            value
            for (sample, labels), value in self.samples.items()
            if sample == name and wanted <= labels
        )

    def series(self, exclude: Iterable[str] = ()) -> set[tuple[str, Labels]]:
        """Every series (name and labels) but those of the `exclude`d families."""
        excluded = set(exclude)
        return {key for key in self.samples if not any(key[0].startswith(e) for e in excluded)}

    def label_values(self) -> set[str]:
        return {value for _, labels in self.samples for _, value in labels}


async def scrape(client: httpx.AsyncClient, path: str = "/metrics") -> Scrape:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return Scrape(response.text)


def scrape_sync(base_url: str, path: str = "/metrics") -> Scrape:
    """A scrape over a connection of its own (a new connection may reach another worker)."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.get(path, headers={"Connection": "close"})
    assert response.status_code == 200, response.text
    return Scrape(response.text)
