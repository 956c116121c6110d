"""Policy administration screens (``admin``): the time-limit policy and the business
calendar. The deadline panel on the case page is ``deadlines.views``."""
