"""Publication (R20): results in the national categories, corrections as new versions, the public search
showing only what may be public."""
import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.publication import services
from webapp.publication.models import PublishedResult
from webapp.review import services as review
from webapp.services import ServiceError
from webapp.sync.services import sync
from tests.factories import make_hazard
from tests.review.test_review import field, outcome, rec  # noqa: F401  (field: fixture)


def approved(task, a, lead, result="completed"):
    data = {"outcome": result, "submitted_at": "2026-11-23T11:00:00+08:00"}
    if result == "non_cooperation":
        data["reason"] = "refused_entry"
    assert sync(a, [rec(task, "outcome", data)])["rejected"] == []
    review.approve(task, lead)


def test_the_records_suggest_the_category(field):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    hazard = make_hazard(task, a)
    approved(task, a, lead)
    assert services.suggest_category(task) == "pending"  # a hazard still open
    again = review.schedule_reinspection(task, lead)
    sync(a, [rec(again, "closure", {"hazard": hazard.record_uuid, "rectified": True, "photos": []}),
             rec(again, "outcome", {"outcome": "completed", "submitted_at": "2026-12-01T10:00:00+08:00"})])
    review.close_hazard(hazard, lead)
    assert services.suggest_category(task) == "corrected"


def test_a_reinspection_has_no_result_of_its_own_to_publish(field):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    make_hazard(task, a)
    approved(task, a, lead)
    again = review.schedule_reinspection(task, lead)
    approved(again, a, lead)
    assert services.publication_due(again) == (None, False)
    with pytest.raises(ServiceError):
        services.publish(again, "corrected", lead)


def test_non_cooperation_is_its_own_category(field):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    approved(task, a, lead, "non_cooperation")
    assert services.suggest_category(task) == "non_cooperation"


def test_publish_then_correct_keeps_both_versions_public(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    sync(a, [outcome(task)])
    with pytest.raises(ServiceError):
        services.publish(task, "no_problem", lead)  # not approved yet
    review.approve(task, lead)
    due, _provisional = services.publication_due(task)
    assert due > task.reviewed_at.date()
    first = services.publish(task, "no_problem", lead)
    with pytest.raises(ServiceError, match="理由"):
        services.publish(task, "no_activity", lead)  # a correction needs its reason
    second = services.publish(task, "no_activity", lead, reason="经核实，该企业未开展涉及本次抽查的经营活动")
    assert (first.version, first.current, second.version, second.current) == (1, False, 2, True)
    client = app.test_client()  # the public, not signed in
    page = client.get("/public/results", query_string={"q": task.enterprise["name"][2:6]}).get_data(as_text=True)
    assert task.enterprise["name"] in page and "未发现开展本次抽查涉及的经营活动" in page and "更正" in page
    history = client.get(f"/public/results/{task.id}").get_data(as_text=True)
    assert "未发现问题" in history and "经核实" in history
    # Only what may be public: no personal phone numbers, no names of the enterprise's staff.
    for private in (task.enterprise.get("phone"), task.enterprise.get("legal_rep")):
        if private:
            assert private not in page and private not in history


def test_public_search_filters(field, app):  # noqa: F811
    task, a, lead = field["task"], field["a"], field["lead"]
    approved(task, a, lead)
    services.publish(task, "no_problem", lead)
    client = app.test_client()
    by_code = client.get("/public/results", query_string={"q": task.uscc[:10]}).get_data(as_text=True)
    assert task.enterprise["name"] in by_code
    other_result = client.get("/public/results", query_string={"result": "pending"}).get_data(as_text=True)
    assert task.enterprise["name"] not in other_result
    by_region = client.get("/public/results", query_string={"region": task.enterprise["region"]}).get_data(as_text=True)
    assert task.enterprise["name"] in by_region
    assert db.session.scalar(select(db.func.count()).select_from(PublishedResult)) == 1
