"""The Merkle tree nodes and signed checkpoints refuse UPDATE, DELETE (and TRUNCATE)."""

from django.db import migrations

from governance.audit.triggers import create_proof_triggers, drop_proof_triggers


def forwards(apps, schema_editor):
    create_proof_triggers(schema_editor.connection)


def backwards(apps, schema_editor):
    drop_proof_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_merkle_tree_and_checkpoints")]
    operations = [migrations.RunPython(forwards, backwards)]
