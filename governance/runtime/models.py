"""Kill switches: boolean runtime controls AI services read, and their flips in commit order."""

import json

from django.db import models

from governance.core.models import TimeStampedModel
from governance.inventory.models import AISystem, Environment, slug_validator


class SwitchScope(models.TextChoices):
    SYSTEM = "system", "Whole system"
    ENVIRONMENT = "environment", "One environment"
    FEATURE = "feature", "Feature"


class SwitchState(models.TextChoices):
    ENGAGED = "engaged", "Engaged"
    RELEASED = "released", "Released"


class KillSwitch(TimeStampedModel):
    """Stops an AI system, one environment of it, or one feature, while engaged.

    ``safe_state`` is what a client assumes when it cannot reach the server and its last known
    state is stale: ``engaged`` fails closed, ``released`` fails open.
    """

    key = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="kill_switches")
    scope = models.CharField(max_length=16, choices=SwitchScope.choices)
    environment = models.CharField(max_length=16, choices=Environment.choices, blank=True)
    feature = models.CharField(max_length=100, blank=True, help_text="e.g. a tool name")
    description = models.TextField(blank=True)
    safe_state = models.CharField(
        max_length=16, choices=SwitchState.choices, default=SwitchState.ENGAGED
    )
    state = models.CharField(
        max_length=16, choices=SwitchState.choices, default=SwitchState.RELEASED
    )
    version = models.PositiveIntegerField(default=1, help_text="Grows with every change")
    reason = models.TextField(blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kill_switches",
        help_text="The incident the switch was last engaged for",
    )
    release_requested_by = models.CharField(max_length=150, blank=True)
    release_requested_by_id = models.CharField(max_length=64, blank=True)
    release_requested_at = models.DateTimeField(null=True, blank=True)
    release_request_reason = models.TextField(blank=True)
    # What readers get, materialised by every write: the hot read path is one narrow query.
    representation = models.JSONField(default=dict, editable=False)
    etag = models.CharField(max_length=34, blank=True, editable=False)

    class Meta:
        # The table keeps its name from when kill switches lived in incidents: moving the
        # model moved no data.
        db_table = "incidents_killswitch"
        ordering = ["system__name", "key"]
        verbose_name_plural = "kill switches"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope="system", environment="", feature="")
                    | (models.Q(scope="environment", feature="") & ~models.Q(environment=""))
                    | (models.Q(scope="feature", environment="") & ~models.Q(feature=""))
                ),
                name="incidents_killswitch_scope_target",
                violation_error_message="An environment switch names an environment, a feature "
                "switch names a feature, a system switch names neither.",
            ),
            models.CheckConstraint(
                condition=~models.Q(key="stream"),
                name="incidents_killswitch_key_not_reserved",
                violation_error_message="'stream' is reserved.",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def is_engaged(self) -> bool:
        return self.state == SwitchState.ENGAGED

    @property
    def release_pending(self) -> bool:
        return self.release_requested_at is not None


class KillSwitchEvent(models.Model):
    """One flip of a kill switch or one change of a runtime control, in commit order. Its id is
    the Server-Sent Events id clients resume from."""

    switch = models.ForeignKey(
        KillSwitch, on_delete=models.PROTECT, related_name="events", null=True, blank=True
    )
    control = models.ForeignKey(
        "runtime.RuntimeControl",
        on_delete=models.PROTECT,
        related_name="events",
        null=True,
        blank=True,
    )
    key = models.CharField(max_length=80)
    system_slug = models.CharField(max_length=80)
    state = models.CharField(
        max_length=16, choices=SwitchState.choices, blank=True, help_text="Empty for controls"
    )
    version = models.PositiveIntegerField()
    payload = models.JSONField(help_text="The switch as clients see it after this flip")
    occurred_at = models.DateTimeField()

    class Meta:
        db_table = "incidents_killswitchevent"
        ordering = ["id"]
        indexes = [models.Index(fields=["system_slug", "id"], name="incidents_ksevent_system")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(switch__isnull=False, control__isnull=True)
                | models.Q(switch__isnull=True, control__isnull=False),
                name="runtime_event_switch_or_control",
                violation_error_message="An event is of one switch or one control.",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.key} {self.state}"


class ControlKind(models.TextChoices):
    """What a control steers; the kind decides which values it may take."""

    PROMPT_VERSION = "prompt_version", "Prompt version"
    RETRIEVER = "retriever", "Retriever"
    MODEL = "model", "Model version"
    ROUTE_TO_HUMAN = "route_to_human", "Route to human"
    CUSTOM = "custom", "Other value"


class ValueType(models.TextChoices):
    BOOLEAN = "boolean", "Boolean"
    STRING = "string", "String"
    NUMBER = "number", "Number"
    OBJECT = "object", "Object"


class RuntimeControl(TimeStampedModel):
    """A typed value an AI service reads at run time (a prompt version, a retriever, routing to
    a person...), with the value it falls back to when it cannot reach us (``safe_value``).

    Kill switches are the boolean controls with their own life (engage/release, two people for
    SEV1/2); the keys of both share one namespace, the flag keys of OFREP.
    """

    key = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="controls")
    environment = models.CharField(max_length=16, choices=Environment.choices, blank=True)
    feature = models.CharField(max_length=100, blank=True, help_text="e.g. a tool name")
    kind = models.CharField(max_length=20, choices=ControlKind.choices)
    value_type = models.CharField(max_length=10, choices=ValueType.choices)
    value = models.JSONField()
    safe_value = models.JSONField(help_text="What a service uses when it cannot reach us")
    choices = models.JSONField(
        default=list, blank=True, help_text="The registered values a retriever control may take"
    )
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Grows with every change")
    reason = models.TextField(blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="controls",
        help_text="The incident the value was last changed for",
    )
    representation = models.JSONField(default=dict, editable=False)
    etag = models.CharField(max_length=34, blank=True, editable=False)

    class Meta:
        ordering = ["system__name", "key"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(key="stream"),
                name="runtime_control_key_not_reserved",
                violation_error_message="'stream' is reserved.",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def value_json(self) -> str:
        return json.dumps(self.value)

    @property
    def safe_value_json(self) -> str:
        return json.dumps(self.safe_value)
