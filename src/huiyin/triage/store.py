"""Model files: written under ``settings.HUIYIN_TRIAGE_DIR`` (``HUIYIN_DATA_DIR/triage`` when
unset; never the repository), one file per organisation and version, checked against the
SHA-256 its row keeps before it is loaded, and kept loaded per process.

A file that is missing, altered or unreadable raises ``ModelUnavailable``: triage is then
off for the organisation (the intake form says so) and intake goes on without it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from huiyin.core.errors import ApplicationError

from .errors import TriageError
from .models import TriageModel

if TYPE_CHECKING:
    from .classifier import TextClassifier
    from .similarity import Frequencies

FORMAT = 1  # the bundle's layout; a file of another format is not loaded


@dataclass
class Bundle:
    """What a model file holds: the classifier (its classes are category ids), the category
    names it was trained with, and for each class the departments that led such cases
    (``[[department id, share], ...]``, best first), and the document frequencies of the
    training texts' character n-grams that weigh repeat detection's text score
    (``triage.similarity``; ``None`` in files written before it)."""

    classifier: TextClassifier
    label_names: dict[int, str]
    departments: dict[int, list[list[float]]] = field(default_factory=dict)
    format: int = FORMAT
    frequencies: Frequencies | None = None


class ModelUnavailable(ApplicationError):
    code = TriageError.MODEL_UNAVAILABLE


def directory() -> Path:
    path = Path(settings.HUIYIN_TRIAGE_DIR or Path(settings.DATA_DIR) / "triage")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def file_name(organization_id: int, version: int) -> str:
    return f"org{organization_id}-v{version:04d}.joblib"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write(bundle: Bundle, organization_id: int, version: int) -> tuple[str, str]:
    """Write the bundle (0600, through a temporary file); (file name, SHA-256)."""
    name = file_name(organization_id, version)
    target = directory() / name
    temporary = target.with_suffix(".partial")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    import joblib  # with scikit-learn and numpy: loaded only where a model is written or read

    with os.fdopen(fd, "wb") as f:
        joblib.dump(bundle, f)  # uncompressed: what it keeps can be read (and tested) as it is
    os.replace(temporary, target)
    return name, _sha256(target)


def path_of(row: TriageModel) -> Path:
    return directory() / row.file_name


_cache: dict[int, tuple[int, str, Bundle]] = {}
_lock = threading.Lock()


def load(row: TriageModel) -> Bundle:
    """The row's bundle, from the process cache or its file (checked against the SHA-256)."""
    with _lock:
        cached = _cache.get(row.organization_id)
        if cached is not None and cached[:2] == (row.version, row.sha256):
            return cached[2]
    path = path_of(row)
    unavailable = ModelUnavailable(
        _("分类模型 v%(version)s 的文件缺失或已损坏，智能分类建议已暂停。") % {"version": row.version}
    )
    if not row.file_name or not path.is_file():
        raise unavailable
    import joblib  # with scikit-learn and numpy: loaded only where a model is written or read

    try:
        if _sha256(path) != row.sha256:
            raise unavailable
        bundle: Any = joblib.load(path)
    except ModelUnavailable:
        raise
    except Exception as exc:  # unreadable in any way: triage is off, intake goes on
        raise unavailable from exc
    if not isinstance(bundle, Bundle) or bundle.format != FORMAT:
        raise unavailable
    with _lock:
        _cache[row.organization_id] = (row.version, row.sha256, bundle)
    return bundle


def forget(organization_id: int | None = None) -> None:
    """Drop loaded models (all, or one organisation's)."""
    with _lock:
        if organization_id is None:
            _cache.clear()
        else:
            _cache.pop(organization_id, None)


def remove(row: TriageModel) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(row).unlink()
