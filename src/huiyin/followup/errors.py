"""Callbacks, rectification tasks and rating links: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode, InvalidStatus


class FollowupError(ErrorCode):
    CALLBACK_DONE = "callback_done"
    TASK_DONE = "task_done"
    HEAD_DECISION_PENDING = "head_decision_pending"
    DECIDED = "decided"
    WRONG_STATE = "wrong_state"
    LINK_UNKNOWN = "unknown"
    LINK_USED = "used"
    LINK_EXPIRED = "expired"
    NOTHING_TO_RATE = "nothing_to_rate"
    RATING_CLOSED = "rating_closed"
    RATED = "rated"
    ANSWER_GIVEN = "answer_given"


class CallbackDone(InvalidStatus):
    """The callback was already recorded (or cancelled): a second record does not count."""

    code = FollowupError.CALLBACK_DONE


class TaskDone(InvalidStatus):
    code = FollowupError.TASK_DONE


class AnswerGiven(InvalidStatus):
    """The promised answer was already recorded."""

    code = FollowupError.ANSWER_GIVEN
