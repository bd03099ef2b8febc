"""What the actions of rooms share: the follow-up of a refusal."""

from functools import wraps

from core import metrics
from core.refusals import Refused


def runs_after_refusal(action):
    """Outside the action's transaction: once a refusal has rolled it back,
    runs the refusal's follow-up (policy.Verdict.after_refusal)."""

    @wraps(action)
    def wrapper(*args, **kwargs):
        try:
            return action(*args, **kwargs)
        except Refused as refusal:
            metrics.message_refused(refusal.code)
            if refusal.after_refusal is not None:
                refusal.after_refusal()
            raise

    return wrapper
