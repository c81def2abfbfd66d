"""What the releases app tells the apps above it, which it must not import (apps depend
downward): a registry integration listens to write a decision back where the team looks."""

from django.dispatch import Signal

# Sent inside the transaction of a release request's change, with ``event`` (the outbound
# event name: release.approved, release.rejected, ...) and ``request``. A receiver that calls
# out queues its work (the outbox) so it runs only if the change commits.
release_changed = Signal()
