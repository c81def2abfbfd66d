"""manage.py load_catalog: load or refresh the NIST AI RMF 1.0 catalog (idempotent)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from governance.controls.models import GenAIAction, Subcategory
from governance.controls.services import NIST_AI_RMF, catalog_load
from governance.core.actor import Actor


class Command(BaseCommand):
    help = "Load the NIST AI RMF 1.0 catalog shipped with the product. Safe to run again."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--file", type=Path, default=NIST_AI_RMF, help="catalog JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        framework, result = catalog_load(actor=Actor.system("load_catalog"), path=options["file"])
        subcategories = Subcategory.objects.filter(category__function__framework=framework)
        self.stdout.write(
            f"{framework}: {subcategories.count()} subcategories, "
            f"{GenAIAction.objects.count()} GenAI profile actions "
            f"({result.created} rows created, {result.updated} updated, "
            f"{result.unchanged} unchanged)"
        )
