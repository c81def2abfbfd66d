"""Kill switches move here from incidents. The tables stay as they are (db_table keeps their
names, constraint and index names are unchanged): only Django's state moves, no row is touched."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models

CONSTRAINTS = [
    models.CheckConstraint(condition=models.Q(models.Q(('environment', ''), ('feature', ''), ('scope', 'system')), models.Q(('feature', ''), ('scope', 'environment'), models.Q(('environment', ''), _negated=True)), models.Q(('environment', ''), ('scope', 'feature'), models.Q(('feature', ''), _negated=True)), _connector='OR'), name='incidents_killswitch_scope_target', violation_error_message='An environment switch names an environment, a feature switch names a feature, a system switch names neither.'),
    models.CheckConstraint(condition=models.Q(('key', 'stream'), _negated=True), name='incidents_killswitch_key_not_reserved', violation_error_message="'stream' is reserved."),
]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('incidents', '0003_timeline_deployment_refused'),
        ('inventory', '0002_versions_datasets_ownership'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='KillSwitch',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('key', models.SlugField(max_length=80, unique=True, validators=[django.core.validators.RegexValidator('^[a-z0-9]+(?:-[a-z0-9]+)*$', 'Use lowercase letters, digits and single hyphens.')])),
                        ('scope', models.CharField(choices=[('system', 'Whole system'), ('environment', 'One environment'), ('feature', 'Feature')], max_length=16)),
                        ('environment', models.CharField(blank=True, choices=[('development', 'Development'), ('staging', 'Staging'), ('production', 'Production')], max_length=16)),
                        ('feature', models.CharField(blank=True, help_text='e.g. a tool name', max_length=100)),
                        ('description', models.TextField(blank=True)),
                        ('safe_state', models.CharField(choices=[('engaged', 'Engaged'), ('released', 'Released')], default='engaged', max_length=16)),
                        ('state', models.CharField(choices=[('engaged', 'Engaged'), ('released', 'Released')], default='released', max_length=16)),
                        ('version', models.PositiveIntegerField(default=1, help_text='Grows with every change')),
                        ('reason', models.TextField(blank=True)),
                        ('changed_by', models.CharField(blank=True, max_length=150)),
                        ('changed_at', models.DateTimeField(blank=True, null=True)),
                        ('release_requested_by', models.CharField(blank=True, max_length=150)),
                        ('release_requested_by_id', models.CharField(blank=True, max_length=64)),
                        ('release_requested_at', models.DateTimeField(blank=True, null=True)),
                        ('release_request_reason', models.TextField(blank=True)),
                        ('representation', models.JSONField(default=dict, editable=False)),
                        ('etag', models.CharField(blank=True, editable=False, max_length=34)),
                        ('incident', models.ForeignKey(blank=True, help_text='The incident the switch was last engaged for', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='kill_switches', to='incidents.incident')),
                        ('system', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='kill_switches', to='inventory.aisystem')),
                    ],
                    options={
                        'verbose_name_plural': 'kill switches',
                        'ordering': ['system__name', 'key'],
                        'db_table': 'incidents_killswitch',
                        'constraints': CONSTRAINTS,
                    },
                ),
                migrations.CreateModel(
                    name='KillSwitchEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=80)),
                        ('system_slug', models.CharField(max_length=80)),
                        ('state', models.CharField(choices=[('engaged', 'Engaged'), ('released', 'Released')], max_length=16)),
                        ('version', models.PositiveIntegerField()),
                        ('payload', models.JSONField(help_text='The switch as clients see it after this flip')),
                        ('occurred_at', models.DateTimeField()),
                        ('switch', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='runtime.killswitch')),
                    ],
                    options={
                        'ordering': ['id'],
                        'db_table': 'incidents_killswitchevent',
                        'indexes': [models.Index(fields=['system_slug', 'id'], name='incidents_ksevent_system')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
