#!/usr/bin/env bash
# Regenerate the English message catalogue and compile it.
#
#   . .venv/bin/activate && scripts/i18n.sh
#
# 1. makemessages collects every {% trans %}/{% blocktrans %} and
#    gettext()/_() string under src/huiyin into
#    src/huiyin/locale/en/LC_MESSAGES/django.po (new entries get an empty
#    msgstr; entries whose msgid changed are marked fuzzy; vanished ones are
#    dropped);
# 2. translate the new/fuzzy entries in django.po (remove the "fuzzy" flag);
# 3. run this script again (or just the compilemessages step) so django.mo is
#    rebuilt. tests/core/test_translations.py fails on an untranslated, fuzzy
#    or uncompiled string.
#
# Step 1 is preceded by writing src/huiyin/policy/preset_strings.py from the
# shipped presets' short labels (python -m huiyin.policy.preset_catalogue), so
# a label added to presets/*.yaml lands in the catalogue too.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/src/huiyin"

export DJANGO_SETTINGS_MODULE=huiyin.settings
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
# Settings need a data directory; nothing is written to it here.
export HUIYIN_DATA_DIR="${HUIYIN_DATA_DIR:-${TMPDIR:-/tmp}/huiyin-i18n}"

DJANGO_ADMIN="django-admin"
if ! command -v django-admin >/dev/null 2>&1 && [ -x "$ROOT/.venv/bin/django-admin" ]; then
    DJANGO_ADMIN="$ROOT/.venv/bin/django-admin"
fi

mkdir -p locale/en/LC_MESSAGES

if [ "${1:-}" != "--compile-only" ]; then
    # The Python next to django-admin (the project's virtualenv), else python3.
    PYTHON="$(dirname "$(command -v "$DJANGO_ADMIN")")/python"
    [ -x "$PYTHON" ] || PYTHON=python3
    "$PYTHON" -m huiyin.policy.preset_catalogue
    "$DJANGO_ADMIN" makemessages -l en \
        --domain django \
        --extension html,py,txt \
        --ignore 'migrations/*' \
        --ignore 'static/*' \
        --ignore '*/static/*' \
        --ignore 'locale/*' \
        --no-obsolete \
        --no-location \
        --no-wrap
fi

"$DJANGO_ADMIN" compilemessages -l en --ignore 'static/*'

echo "catalogue: src/huiyin/locale/en/LC_MESSAGES/django.po ($(grep -c '^msgid "' locale/en/LC_MESSAGES/django.po) entries incl. header)"
