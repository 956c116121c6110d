# ruff: noqa: B018
"""Names vulture reports as unused that are used: by Django's conventions, templates, openpyxl or tests.

Checked by `vulture src/huiyin vulture_whitelist.py --min-confidence 60`; vulture only parses this file.
Add a name only after grepping src (templates included) and tests for it; delete dead code instead.
"""

from vulture.whitelist_utils import Whitelist

_ = Whitelist()


# Found by Django's conventions: app configs, Meta options, admin, URLs, management commands, settings, migrations
_.ALLOWED_HOSTS  # settings.py
_.AUTH_PASSWORD_VALIDATORS  # settings.py
_.CACHES  # settings.py
_.CSRF_COOKIE_SECURE  # settings.py
_.CSRF_TRUSTED_ORIGINS  # settings.py
_.CasesConfig  # cases/apps.py
_.Command  # cases/management/commands/lifecycle_diagram.py
_.CoreConfig  # core/apps.py
_.DATABASES  # settings.py
_.DATA_UPLOAD_MAX_MEMORY_SIZE  # settings.py
_.DEBUG  # settings.py
_.DEFAULT_AUTO_FIELD  # settings.py
_.DemoConfig  # demo/apps.py
_.DepartmentAdmin  # orgs/admin.py
_.EvaluationConfig  # evaluation/apps.py
_.FollowupConfig  # followup/apps.py
_.HandlingConfig  # handling/apps.py
_.LANGUAGES  # settings.py
_.LANGUAGE_CODE  # settings.py
_.LOCALE_PATHS  # settings.py
_.LOGGING  # settings.py
_.LOGIN_REDIRECT_URL  # settings.py
_.LOGIN_URL  # settings.py
_.LOGOUT_REDIRECT_URL  # settings.py
_.MEDIA_ROOT  # settings.py
_.MEDIA_URL  # settings.py
_.MIDDLEWARE  # settings.py
_.Meta  # cases/models.py
_.OrganizationAdmin  # orgs/admin.py
_.OrgsConfig  # orgs/apps.py
_.PASSWORD_HASHERS  # settings.py
_.ROOT_URLCONF  # settings.py
_.RQ_QUEUES  # settings.py
_.SESSION_COOKIE_HTTPONLY  # settings.py
_.STATIC_ROOT  # settings.py
_.STATIC_URL  # settings.py
_.STORAGES  # settings.py
_.StaffAdmin  # orgs/admin.py
_.SupervisionConfig  # supervision/apps.py
_.SurveysConfig  # surveys/apps.py
_.TIME_ZONE  # settings.py
_.USE_I18N  # settings.py
_.USE_TZ  # settings.py
_.WHITENOISE_USE_FINDERS  # settings.py
_.WSGI_APPLICATION  # settings.py
_.add_arguments  # cases/management/commands/lifecycle_diagram.py
_.allow_multiple_selected  # cases/forms.py
_.app_name  # cases/public_urls.py
_.application  # wsgi.py
_.apps  # cases/migrations/0003_search.py
_.constraints  # cases/models.py
_.dependencies  # cases/migrations/0001_initial.py
_.handle  # cases/management/commands/lifecycle_diagram.py
_.help  # cases/management/commands/lifecycle_diagram.py
_.indexes  # cases/models.py
_.list_display  # orgs/admin.py
_.list_filter  # orgs/admin.py
_.operations  # cases/migrations/0001_initial.py
_.ordering  # cases/models.py
_.urlpatterns  # cases/public_urls.py
_.verbose_name  # cases/apps.py
_.verbose_name_plural  # cases/models.py

# Model fields and choices members (read by the ORM, forms, templates, migrations) and fields set before save()
_.ALL  # followup/models.py
_.CHANGED  # handling/models.py
_.CONSULTATION  # cases/models.py
_.CaseSequence  # cases/models.py
_.DEADLINE_OVERDUE  # cases/models.py
_.DEADLINE_WARNING  # cases/models.py
_.DOCUMENTS  # handling/models.py
_.EMAIL  # cases/models.py
_.EXPLAINED  # handling/models.py
_.FAX  # cases/models.py
_.GROUP_VISIT  # followup/models.py
_.HELP  # cases/models.py
_.MAILBOX  # cases/models.py
_.MAJOR  # cases/models.py
_.MEDIA  # cases/models.py
_.NONE  # handling/models.py
_.NOT_REACHED  # followup/models.py
_.NOT_SUBSTANTIATED  # handling/models.py
_.NOT_SUPPORTED  # handling/models.py
_.PARTLY  # handling/models.py
_.PRAISE  # cases/models.py
_.REPORT  # cases/models.py
_.REREVIEW  # handling/models.py
_.RESOLVED  # handling/models.py
_.REVOKED  # handling/models.py
_.SAMPLE  # followup/models.py
_.SITE_VISIT  # handling/models.py
_.SUGGESTION  # cases/models.py
_.SUPERVISION_ANSWERED  # cases/models.py
_.SUPERVISION_CLOSED  # cases/models.py
_.SUPERVISION_ESCALATED  # cases/models.py
_.SUPERVISION_ISSUED  # cases/models.py
_.SUPERVISION_OVERDUE  # cases/models.py
_.SUPERVISION_WARNING  # cases/models.py
_.UPHELD  # handling/models.py
_.URGENT  # cases/models.py
_.VISIT  # cases/models.py
_.answered_by  # handling/models.py
_.approved_by  # handling/models.py
_.checked_at  # handling/models.py
_.checked_by  # handling/models.py
_.close_note  # supervision/models.py
_.closed_at  # cases/models.py
_.closed_by  # supervision/models.py
_.complainant_informed_at  # handling/models.py
_.complainant_informed_how  # handling/models.py
_.confirmed_at  # handling/models.py
_.confirmed_by_complainant  # cases/models.py
_.convened_at  # handling/models.py
_.coordinator  # handling/models.py
_.created_by  # followup/models.py
_.decided_by  # handling/models.py
_.dispatched_by  # handling/models.py
_.done_by  # followup/models.py
_.entered_by  # surveys/models.py
_.handles_cases  # orgs/models.py
_.head_decided_at  # followup/models.py
_.head_decided_by  # followup/models.py
_.head_note  # followup/models.py
_.is_initial  # cases/models.py
_.is_lead  # handling/models.py
_.issued_at  # followup/models.py
_.led_by  # surveys/models.py
_.level_label  # evaluation/models.py
_.next_try_at  # followup/models.py
_.notified_at  # handling/models.py
_.notified_by  # handling/models.py
_.planned_at  # followup/models.py
_.read_at  # core/models.py
_.recipient  # core/models.py
_.recorded_by  # evaluation/models.py
_.registered_at  # cases/models.py
_.reply_method  # cases/models.py
_.request_due_at  # handling/models.py
_.review_concluded  # cases/models.py
_.reviewer  # supervision/models.py
_.scheduled_for  # supervision/models.py
_.search_document  # cases/models.py
_.sent_at  # handling/models.py
_.set_at  # handling/models.py
_.set_by  # handling/models.py
_.sort_order  # orgs/models.py
_.submitted_at  # handling/models.py
_.submitted_by  # handling/models.py
_.updated_at  # cases/models.py
_.updated_by  # handling/models.py
_.uploaded_at  # cases/models.py
_.uploaded_by  # cases/models.py

# Form fields: declared on the form class, read through cleaned_data and templates
_.as_of  # supervision/forms.py
_.party_address  # cases/forms.py
_.party_affiliation  # cases/forms.py
_.party_anonymous  # cases/forms.py
_.party_id_number  # cases/forms.py
_.party_name  # cases/forms.py
_.party_phone  # cases/forms.py
_.reaccept_ground  # cases/forms.py

# Read by templates: properties, attributes a selector or view sets, template tags and filters
_.chain_labels  # handling/selectors.py
_.due_role  # handling/selectors.py
_.is_negative  # supervision/templatetags/supervision.py
_.latest_round  # cases/views.py
_.masked_id_number  # cases/models.py
_.masked_phone  # cases/models.py
_.may_daily_review  # supervision/templatetags/supervision.py
_.may_see_supervision  # supervision/templatetags/supervision.py
_.supervision_panel  # supervision/templatetags/supervision.py

# openpyxl cell and sheet properties set when writing spreadsheets
_.alignment  # evaluation/export.py
_.freeze_panes  # evaluation/export.py
_.number_format  # evaluation/export.py

# Kept on purpose
_.STRINGS  # policy.preset_strings: generated gettext_noop entries, read by makemessages, not by code
_.SKIPPED  # policy.preset_catalogue: the text fields left out on purpose, read by tests/policy/test_preset_labels.py
_.COMMON_WORDS  # demo.texts: words the demo texts must contain, checked by tests/demo/test_generator.py
_.ConsoleSmsBackend  # an SMS backend chosen by dotted path in the HUIYIN_SMS_BACKEND setting
_.FileSmsBackend  # the default of the HUIYIN_SMS_BACKEND setting, loaded by dotted path (core.notify.sms_backend)
_.as_dict  # ApplicationError.as_dict: the API error body, for the API to come (tests/core/test_errors.py)
_.supervision_sweep_until_idle  # supervision.sweeper: runs the sweeper to rest in tests/supervision/conftest.py
