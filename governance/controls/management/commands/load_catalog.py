"""manage.py load_catalog: load or refresh the shipped catalogs, NIST AI RMF 1.0 (with the
GenAI profile) and the EU AI Act with its crosswalk (idempotent)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from governance.controls.models import GenAIAction, Subcategory
from governance.controls.services import EU_AI_ACT, NIST_AI_RMF, catalog_load
from governance.core.actor import Actor


class Command(BaseCommand):
    help = (
        "Load the catalogs shipped with the product (NIST AI RMF 1.0 with the GenAI profile, "
        "then the EU AI Act and its crosswalk). Safe to run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--file", type=Path, help="load only this catalog JSON (no GenAI profile)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("load_catalog")
        if options["file"]:
            loads = [catalog_load(actor=actor, path=options["file"], genai_path=None)]
        else:
            loads = [
                catalog_load(actor=actor, path=NIST_AI_RMF),
                catalog_load(actor=actor, path=EU_AI_ACT, genai_path=None),
            ]
        for framework, result in loads:
            subcategories = Subcategory.objects.filter(category__function__framework=framework)
            self.stdout.write(
                f"{framework}: {subcategories.count()} controls "
                f"({result.created} rows created, {result.updated} updated, "
                f"{result.unchanged} unchanged)"
            )
        self.stdout.write(f"GenAI profile: {GenAIAction.objects.count()} actions")
