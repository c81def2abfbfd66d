# Pending audit events and the trigger that seals them into the chain at commit (sealing.py).

import django.core.serializers.json
from django.db import migrations, models

from governance.audit.sealing import create_seal_trigger, drop_seal_trigger


def forwards(apps, schema_editor):
    create_seal_trigger(schema_editor.connection)


def backwards(apps, schema_editor):
    drop_seal_trigger(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0005_chain_head_prev_hash"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditPendingEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("occurred_at", models.DateTimeField(editable=False)),
                ("actor_type", models.CharField(max_length=16)),
                ("actor_id", models.CharField(blank=True, max_length=64)),
                ("actor_name", models.CharField(max_length=150)),
                ("ip", models.CharField(blank=True, max_length=45)),
                ("user_agent", models.CharField(blank=True, max_length=512)),
                ("request_id", models.CharField(blank=True, max_length=128)),
                ("action", models.CharField(max_length=100)),
                ("target_type", models.CharField(blank=True, max_length=100)),
                ("target_id", models.CharField(blank=True, max_length=255)),
                ("target_repr", models.CharField(blank=True, max_length=255)),
                (
                    "before",
                    models.JSONField(
                        blank=True,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        null=True,
                    ),
                ),
                (
                    "after",
                    models.JSONField(
                        blank=True,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        null=True,
                    ),
                ),
                ("reason", models.TextField(blank=True)),
                ("canonical_prefix", models.TextField(editable=False)),
                ("canonical_suffix", models.TextField(editable=False)),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
