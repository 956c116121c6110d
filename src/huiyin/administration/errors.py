"""Staff and department administration: the error codes this app raises (see ``core.errors``)."""

from huiyin.core.errors import ErrorCode


class AdministrationError(ErrorCode):
    NOT_FOUND = "not_found"  # not in the administrator's organisation (a view answers 404)
    SELF_LOCKOUT = "self_lockout"
    DEPARTMENT_IN_USE = "department_in_use"
