"""The shipped catalogs: the NIST AI RMF 1.0, complete with official ids, and the EU AI Act with
its crosswalk; idempotent to reload."""

import pytest
from django.core.management import call_command

from governance.audit.models import AuditEvent
from governance.controls.models import ControlCategory, ControlFunction, Subcategory
from governance.controls.services import catalog_load
from governance.core.actor import Actor

pytestmark = pytest.mark.django_db


def test_catalog_has_every_function_category_and_subcategory():
    call_command("load_catalog")
    nist = {"category__function__framework__slug": "nist-ai-rmf-1.0"}
    assert list(
        ControlFunction.objects.filter(framework__slug="nist-ai-rmf-1.0").values_list(
            "code", flat=True
        )
    ) == ["GOVERN", "MAP", "MEASURE", "MANAGE"]
    assert ControlCategory.objects.filter(function__framework__slug="nist-ai-rmf-1.0").count() == 19
    assert Subcategory.objects.filter(**nist).count() == 72
    codes = set(Subcategory.objects.values_list("code", flat=True))
    assert {"GOVERN 1.1", "MEASURE 2.13", "MANAGE 4.3"} <= codes
    govern_1_1 = Subcategory.objects.get(code="GOVERN 1.1")
    assert govern_1_1.text.startswith("Legal and regulatory requirements involving AI")
    assert govern_1_1.guidance["suggested_actions"]


def test_reloading_changes_nothing_and_keeps_row_identity():
    catalog_load(actor=Actor.system("tests"))
    ids = dict(Subcategory.objects.values_list("code", "pk"))
    _, result = catalog_load(actor=Actor.system("tests"))
    assert (result.created, result.updated) == (0, 0)
    assert dict(Subcategory.objects.values_list("code", "pk")) == ids
    assert AuditEvent.objects.filter(action="controls.catalog.loaded").count() == 1


def test_a_changed_catalog_updates_in_place_and_is_audited(tmp_path):
    catalog_load(actor=Actor.system("tests"))
    pk = Subcategory.objects.get(code="GOVERN 1.1").pk
    from governance.controls.services import NIST_AI_RMF

    text = NIST_AI_RMF.read_text(encoding="utf-8").replace(
        "Legal and regulatory requirements involving AI are understood",
        "Legal and regulatory requirements involving AI are well understood",
    )
    changed = tmp_path / "catalog.json"
    changed.write_text(text, encoding="utf-8")
    _, result = catalog_load(actor=Actor.system("tests"), path=changed)
    assert result.updated == 1
    sub = Subcategory.objects.get(code="GOVERN 1.1")
    assert sub.pk == pk and "well understood" in sub.text
    event = AuditEvent.objects.filter(action="controls.catalog.loaded").first()
    assert event.after["updated"] == 1
