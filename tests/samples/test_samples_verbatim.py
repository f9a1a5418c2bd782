"""``sysjobs/samples/*.js`` are the spec's samples, byte for byte — no more, no fewer."""

from __future__ import annotations

import pytest

from sysjobs.samples import SAMPLES_DIR

from .spec_samples import ISSUE_SAMPLES, NAMES, SPEC, SpecSample, extract


@pytest.fixture(scope="module")
def spec_samples() -> list[SpecSample]:
    if not SPEC.exists():
        pytest.skip(f"the spec is not beside the clone ({SPEC})")
    return extract(SPEC.read_text("utf-8"))


def test_every_spec_sample_is_a_file_with_exactly_its_bytes(
    spec_samples: list[SpecSample],
) -> None:
    for sample in spec_samples:
        path = SAMPLES_DIR / f"{sample.stem}.js"
        assert path.read_bytes() == sample.text.encode("utf-8"), f"{path.name} drifted"


def test_the_spec_has_exactly_the_named_samples(spec_samples: list[SpecSample]) -> None:
    """A sample added to (or removed from) the spec needs a name in ``NAMES``, a file and a
    sidecar: this says which (function heading, position) is new or gone."""
    assert sorted((s.function, s.index) for s in spec_samples) == sorted(NAMES)


def test_no_sample_file_is_missing_from_the_spec_or_the_issue_samples() -> None:
    on_disk = {p.stem for p in SAMPLES_DIR.glob("*.js")}
    assert on_disk == set(NAMES.values()) | set(ISSUE_SAMPLES)


def test_every_sample_has_a_sidecar() -> None:
    for stem in [*NAMES.values(), *ISSUE_SAMPLES]:
        assert (SAMPLES_DIR / f"{stem}.expected.yaml").exists(), stem
