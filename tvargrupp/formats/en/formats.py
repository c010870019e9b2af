"""English dates and times, written the British way to match the Swedish order."""

DATE_FORMAT = "j F Y"  # 1 December 2026
DATETIME_FORMAT = "l j F Y, H:i"  # Tuesday 1 December 2026, 14:00
TIME_FORMAT = "H:i"  # 14:00
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 1 December
SHORT_DATE_FORMAT = "j M Y"  # 1 Dec 2026
SHORT_DATETIME_FORMAT = "j M H:i"  # 24 Nov 08:23
FIRST_DAY_OF_WEEK = 1
