"""Triage: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class TriageError(ErrorCode):
    NO_ORGANIZATION = "no_organization"
    UNREADABLE_FILE = "unreadable_file"
    MISSING_COLUMNS = "missing_columns"
    NO_ROWS = "no_rows"
    UNKNOWN_LABELS = "unknown_labels"
    ONE_CLASS = "one_class"
    TOO_FEW_EXAMPLES = "too_few_examples"
    NOTHING_TO_LEARN = "nothing_to_learn"
    NO_MODEL = "no_model"
    MODEL_UNAVAILABLE = "model_unavailable"
    NOTHING_TO_ROLL_BACK = "nothing_to_roll_back"
    TRAINING_QUEUED = "training_queued"
    ALREADY_LINKED = "already_linked"
    LINK_IS_MERGE = "link_is_merge"
