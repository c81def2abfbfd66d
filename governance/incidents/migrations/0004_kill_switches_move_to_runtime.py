"""Kill switches now belong to the runtime app: point runbook steps at runtime.KillSwitch and
drop the models from this app's state. The database is untouched (same tables, same rows)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('incidents', '0003_timeline_deployment_refused'),
        ('runtime', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='runbookstep',
                    name='kill_switch',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='runtime.killswitch'),
                ),
                migrations.DeleteModel(name='KillSwitchEvent'),
                migrations.DeleteModel(name='KillSwitch'),
            ],
            database_operations=[],
        ),
    ]
