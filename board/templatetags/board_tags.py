from django import template

register = template.Library()


@register.filter
def mmss(seconds) -> str:
    """Seconds as m:ss, with a minus sign once over time."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return "0:00"
    sign = "−" if seconds < 0 else ""
    minutes, rest = divmod(abs(seconds), 60)
    return f"{sign}{minutes}:{rest:02d}"


@register.filter
def as_minutes(delta) -> int:
    """A timedelta as whole minutes."""
    return int(delta.total_seconds() // 60) if delta else 0
