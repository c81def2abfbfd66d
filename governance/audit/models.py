"""The append-only, hash-chained audit log."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

GENESIS_HASH = "0" * 64


class AuditContent(models.Model):
    """Who, what, when, why: what an event says, before and after it is sealed into the chain."""

    occurred_at = models.DateTimeField(editable=False)
    # who
    actor_type = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_name = models.CharField(max_length=150)
    ip = models.CharField(max_length=45, blank=True)  # text: hashed exactly as written
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    # what
    action = models.CharField(max_length=100)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=255, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # why
    reason = models.TextField(blank=True)

    class Meta:
        abstract = True


class AuditEvent(AuditContent):
    """One change, sealed into the chain. Database triggers refuse UPDATE and DELETE.

    ``hash`` is SHA-256 over ``prev_hash`` followed by the event's canonical JSON (see
    canonical.py), so editing or removing any row breaks every later link.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    # The log's filters; the pending rows need none.
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor_name = models.CharField(max_length=150, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    # chain
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_name}"


class AuditPendingEvent(AuditContent):
    """An event committed with its change and not yet sealed: the sealer numbers, hashes and
    moves it into ``AuditEvent`` in one transaction, in order, moments after that commit.

    Only the primary key is indexed, so writers insert here as fast as into a plain table and
    never wait for one another; the chain head is locked only by the sealer (services.py).
    """

    # Its canonical JSON, cut where the sequence number goes (sealing.py).
    canonical_prefix = models.TextField(editable=False)
    canonical_suffix = models.TextField(editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"pending {self.action} by {self.actor_name}"


class AuditChainHead(models.Model):
    """The single row holding the last sequence number and hash, advanced by each seal.

    ``prev_hash`` is the hash before the last seal (the hash the last event links to).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)
    prev_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_head")]

    def __str__(self) -> str:
        return f"head #{self.sequence}"


class AuditChainVerification(models.Model):
    """The outcome of one walk of the chain (scheduled in Celery beat, or on demand)."""

    verified_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    events_checked = models.PositiveBigIntegerField()
    head_sequence = models.PositiveBigIntegerField()
    first_bad_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        state = "ok" if self.ok else f"broken at #{self.first_bad_sequence}"
        return f"verification {self.verified_at:%Y-%m-%d %H:%M} {state}"


class AuditTreeNode(models.Model):
    """One perfect subtree of the Merkle tree over the events: 2**level leaves from
    ``index * 2**level``. Written once, when the tree grows past it; never changed.

    Level 0 holds the leaves (leaf ``index`` is the event with sequence ``index + 1``). Every
    range a proof needs is one of these rows or is folded from at most log2(n) of them.
    """

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    class Meta:
        ordering = ["level", "index"]
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="audit_tree_node_unique")
        ]

    def __str__(self) -> str:
        return f"tree node {self.level}/{self.index}"


class AuditTreeHead(models.Model):
    """How many events the Merkle tree covers, and the chain hash of the last one (so the
    next extension checks that it links on)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.PositiveBigIntegerField(default=0)
    last_event_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_tree")]

    def __str__(self) -> str:
        return f"tree of {self.size}"


class CheckpointTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    REPORT = "report", "Compliance report"
    MANUAL = "manual", "On demand"


class AuditCheckpoint(models.Model):
    """A signed tree head: a C2SP tlog-checkpoint in the signed-note format, as issued.

    ``note`` is the exact text that was signed and handed out (PDF, file, witnesses); the
    other fields repeat what it says, for queries. An RFC 3161 time-stamp token over the note's
    bytes is kept when a time-stamping authority is configured. Rows are never changed.
    """

    created_at = models.DateTimeField(db_index=True)
    tree_size = models.PositiveBigIntegerField(db_index=True)
    root_hash = models.CharField(max_length=64)
    origin = models.CharField(max_length=255)
    key_name = models.CharField(max_length=255)
    key_id = models.CharField(max_length=8)
    note = models.TextField()
    trigger = models.CharField(max_length=16, choices=CheckpointTrigger.choices)
    label = models.CharField(max_length=255, blank=True, help_text="What asked for it")
    timestamp_token = models.BinaryField(null=True, blank=True)
    timestamp_authority = models.CharField(max_length=500, blank=True)
    timestamped_at = models.DateTimeField(null=True, blank=True)
    timestamp_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"checkpoint {self.tree_size} ({self.created_at:%Y-%m-%d %H:%M})"
