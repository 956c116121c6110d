import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huiyin.settings")
application = get_wsgi_application()

# gunicorn loads this module in each worker before the worker accepts a connection: what the
# worker's first request would pay (views imported, templates compiled) is paid here.
if os.environ.get("HUIYIN_WARM_UP", "1") != "0":
    from huiyin.core.warmup import warm_up

    warm_up()
