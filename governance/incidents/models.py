"""Incidents, severity levels and runbooks (kill switches live in governance.runtime)."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from governance.core.models import TimeStampedModel
from governance.inventory.models import AISystem, Environment, ModelVersion, slug_validator

SECOND_PERSON_MAX_RANK = 2


class SeverityLevel(models.Model):
    """SEV1 (worst) to SEV4, with the AI-specific criteria that decide which one applies."""

    code = models.CharField(max_length=8, unique=True)
    rank = models.PositiveSmallIntegerField(unique=True, help_text="1 is the most severe")
    name = models.CharField(max_length=100)
    harm = models.TextField(help_text="What harm to people or the business qualifies")
    exposure = models.TextField(help_text="Which data or decisions are exposed")
    scale = models.TextField(help_text="How many users, decisions or systems are affected")
    response = models.TextField(blank=True, help_text="Expected response (pager, time to act)")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def needs_second_person(self) -> bool:
        """Releasing a kill switch tied to a SEV1 or SEV2 incident takes two people."""
        return self.rank <= SECOND_PERSON_MAX_RANK


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MITIGATED = "mitigated", "Mitigated"
    RESOLVED = "resolved", "Resolved"
    POSTMORTEM = "postmortem", "Postmortem"


OPEN_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MITIGATED)


class Incident(TimeStampedModel):
    """Something an AI system did that needs a response, with its owner and its timeline."""

    number = models.PositiveIntegerField(unique=True, editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    severity = models.ForeignKey(SeverityLevel, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    systems = models.ManyToManyField(AISystem, related_name="incidents")
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commanded_incidents"
    )
    opened_by = models.CharField(max_length=150)
    opened_at = models.DateTimeField()
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    postmortem_cause = models.TextField("cause", blank=True)
    postmortem_impact = models.TextField("impact", blank=True)
    postmortem_actions = models.TextField("actions", blank=True)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def time_to_mitigate(self) -> timedelta | None:
        if self.mitigated_at is None:
            return None
        return self.mitigated_at - self.opened_at

    @property
    def time_to_mitigate_text(self) -> str:
        """e.g. "7 min 12 s", "2 h 5 min"; empty until mitigated."""
        ttm = self.time_to_mitigate
        if ttm is None:
            return ""
        seconds = int(ttm.total_seconds())
        hours, rest = divmod(seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        if hours:
            return f"{hours} h {minutes} min"
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class TimelineKind(models.TextChoices):
    OPENED = "opened", "Opened"
    NOTE = "note", "Note"
    STATUS = "status", "Status"
    SEVERITY = "severity", "Severity"
    KILL_SWITCH = "kill_switch", "Kill switch"
    CONTROL = "control", "Runtime control"
    RUNBOOK = "runbook", "Runbook step"
    ROLLBACK = "rollback", "Rollback"
    WEBHOOK = "webhook", "Webhook"
    POSTMORTEM = "postmortem", "Postmortem"
    DEPLOYMENT = "deployment", "Deployment refused"
    SERIOUS = "serious", "Serious incident (EU AI Act Art. 73)"


class TimelineEntry(models.Model):
    """One line of an incident's timeline: an automatic event or a note someone wrote."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=TimelineKind.choices)
    message = models.TextField()
    actor_name = models.CharField(max_length=150)
    occurred_at = models.DateTimeField()
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.incident.ref} {self.kind}: {self.message[:60]}"


class StepAction(models.TextChoices):
    NONE = "", "Manual step"
    ENGAGE_KILL_SWITCH = "engage_kill_switch", "Engage a kill switch"
    SET_CONTROL = "set_control", "Set a runtime control"
    REVERT_PROMPT = "revert_prompt", "Revert the prompt to the last approved version"
    ROLLBACK = "rollback", "Roll back the deployed release"
    WEBHOOK = "webhook", "Call an outbound webhook"


class RunbookTemplate(models.TextChoices):
    NONE = "", "Blank"
    REVERT_PROMPT = "revert-prompt", "Revert prompt"
    DISABLE_TOOL = "disable-tool", "Disable tool"
    SWAP_RETRIEVER = "swap-retriever", "Swap retriever"
    ROUTE_TO_HUMAN = "route-to-human", "Route to human"
    ROLLBACK_MODEL = "rollback-model", "Roll back model"


class Runbook(TimeStampedModel):
    """What to do, step by step, when one AI system misbehaves in a known way."""

    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="runbooks")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.CharField(max_length=32, choices=RunbookTemplate.choices, blank=True)

    class Meta:
        ordering = ["system__name", "name"]

    def __str__(self) -> str:
        return self.name


class RunbookStep(models.Model):
    """One ordered step: instructions for a person, and optionally an automated action."""

    runbook = models.ForeignKey(Runbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    action = models.CharField(max_length=32, choices=StepAction.choices, blank=True)
    kill_switch = models.ForeignKey(
        "runtime.KillSwitch", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    control = models.ForeignKey(
        "runtime.RuntimeControl", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    control_value = models.JSONField(
        null=True, blank=True, help_text="The value a set-control step gives the control"
    )
    environment = models.CharField(
        max_length=16,
        choices=Environment.choices,
        blank=True,
        help_text="Where a rollback step rolls back (production when empty)",
    )
    model_version = models.ForeignKey(
        ModelVersion,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a rollback: the version expected to become current (checked)",
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    webhook_secret = models.CharField(
        max_length=200, blank=True, help_text="Standard Webhooks secret (whsec_…)"
    )

    class Meta:
        ordering = ["runbook", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["runbook", "position"],
                name="incidents_step_position_unique",
                violation_error_message="Another step has this position.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class RunbookRun(models.Model):
    """A runbook followed inside one incident."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="runs")
    runbook = models.ForeignKey(Runbook, on_delete=models.PROTECT, related_name="runs")
    started_by = models.CharField(max_length=150)
    started_at = models.DateTimeField()

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "runbook"],
                name="incidents_run_once_per_incident",
                violation_error_message="This runbook is already running in this incident.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.runbook} in {self.incident.ref}"


class StepStatus(models.TextChoices):
    PENDING = "pending", "To do"
    QUEUED = "queued", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class StepExecution(models.Model):
    """What happened to one step of a run: who, when, and the outcome."""

    run = models.ForeignKey(RunbookRun, on_delete=models.CASCADE, related_name="executions")
    step = models.ForeignKey(RunbookStep, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=StepStatus.choices, default=StepStatus.PENDING)
    performed_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["run", "step__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step"],
                name="incidents_execution_once_per_step",
                violation_error_message="This step already has an execution in this run.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step} · {self.status}"

    @property
    def queued_too_long(self) -> bool:
        """An automated step no worker has finished for OUTBOX_OVERDUE_SECONDS: it may be
        performed again (the outbox publishes it again meanwhile)."""
        overdue = timedelta(seconds=settings.OUTBOX_OVERDUE_SECONDS)
        return (
            self.status == StepStatus.QUEUED
            and self.started_at is not None
            and timezone.now() - self.started_at > overdue
        )


class SeriousIncidentKind(models.TextChoices):
    """Art. 73's reporting deadlines, counted from when the organisation became aware."""

    GENERAL = "general", "Serious incident (Art. 73(2): 15 days)"
    DEATH = "death", "Death of a person (Art. 73(4): 10 days)"
    WIDESPREAD = (
        "widespread",
        "Widespread infringement or critical infrastructure disruption (Art. 73(3): 2 days)",
    )


class SeriousIncidentReport(models.Model):
    """An incident on a high-risk AI system marked serious under Art. 73 of the EU AI Act: the
    reporting clock, and the submission to the market surveillance authority once made."""

    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="serious_report"
    )
    system = models.ForeignKey(AISystem, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=SeriousIncidentKind.choices)
    aware_at = models.DateTimeField(help_text="When the organisation became aware")
    deadline_at = models.DateTimeField()
    reason = models.TextField()
    marked_by = models.CharField(max_length=150)
    marked_at = models.DateTimeField()
    authority = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True)
    submitted_by = models.CharField(max_length=150, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["deadline_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(submitted_at__isnull=True) | ~models.Q(reference=""),
                name="incidents_serious_submission_has_reference",
                violation_error_message="A submitted report has the authority's reference.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident}: serious incident report due {self.deadline_at:%Y-%m-%d %H:%M}"

    @property
    def late(self) -> bool:
        return self.submitted_at is not None and self.submitted_at > self.deadline_at
