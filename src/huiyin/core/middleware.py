"""Input hygiene at the HTTP boundary: every value a request brings (query string, form
fields, uploaded file names) arrives without control characters, whichever view reads it
— a form, ``request.POST.get`` or a look-up by number. What a person types has none; what
arrives anyway (NUL, ANSI escapes) would be refused by PostgreSQL, break an Excel export
or forge a log line (issue 13)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .forms import cleaned_data_of
from .validators import clean_text


class CleanInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.GET = cleaned_data_of(request.GET)
        if request.method == "POST":
            request.POST = cleaned_data_of(request.POST)
            for _field, uploads in request.FILES.lists():
                for upload in uploads:
                    if upload.name:
                        upload.name = clean_text(upload.name) or "upload"
        return self.get_response(request)
