"""On-demand assessments over HTTP: the served model's answer, and a clear refusal for what it cannot use."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from inference.assessor import DEFAULT_MODEL, Assessor
from inference.serve import ServedModel, create_app
from vigia.contracts import ImageAssessment
from vigia.images import MAX_BYTES
from vigia.settings import Settings

TILES = Settings().imagery_dir / "ucmerced"


@pytest.fixture(scope="module")
def served() -> Iterator[ServedModel]:
    model = ServedModel()
    model.swap(Assessor.from_file(DEFAULT_MODEL, threads=1))
    yield model
    if model.assessor is not None:
        model.assessor.close()


def test_an_image_is_answered_with_the_served_models_reading(served: ServedModel) -> None:
    data = (TILES / "denseresidential" / "denseresidential03.jpg").read_bytes()
    answer = TestClient(create_app(served)).post("/assess", content=data)
    assert answer.status_code == 200
    assessment = ImageAssessment.model_validate(answer.json())
    assert served.assessor is not None
    assert assessment.model_version == served.assessor.version
    assert 0 <= assessment.housing_score <= 1
    assert len(assessment.top_classes) == 3
    assert "built_up_fraction" in assessment.features


def test_what_the_model_cannot_use_is_refused_with_its_reason(served: ServedModel) -> None:
    client = TestClient(create_app(served))
    corrupt = client.post("/assess", content=b"\x89PNG\r\n\x1a\n not really a png")
    assert corrupt.status_code == 422
    assert corrupt.json()["reason"] == "corrupt"
    assert client.post("/assess", content=b"").json()["reason"] == "empty"
    huge = client.post("/assess", content=b"\0" * (MAX_BYTES + 1))
    assert (huge.status_code, huge.json()["reason"]) == (413, "too_large")


def test_before_a_model_is_loaded_the_answer_says_try_again() -> None:
    answer = TestClient(create_app(ServedModel())).post("/assess", content=b"anything")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"


def test_a_replaced_model_is_handed_back_for_closing(served: ServedModel) -> None:
    holder = ServedModel()
    first = Assessor.from_file(DEFAULT_MODEL, threads=1)
    assert holder.swap(first) is None
    second = Assessor.from_file(DEFAULT_MODEL, threads=1)
    assert holder.swap(second) is first
    first.close()
    second.close()
