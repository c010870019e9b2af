"""Swedish dates and times as Swedes write them.

Weekdays and months in lower case ("tisdag 1 december"), the month abbreviated
without a dot and in lower case ("24 nov"), and a full stop between hours and
minutes ("08.23"), as Språkrådet recommends. Only the display formats are set;
the input formats stay Django's.
"""

DATE_FORMAT = "j F Y"  # 1 december 2026
DATETIME_FORMAT = r"l j F Y \k\l. H.i"  # tisdag 1 december 2026 kl. 14.00
TIME_FORMAT = "H.i"  # 14.00
YEAR_MONTH_FORMAT = "F Y"  # december 2026
MONTH_DAY_FORMAT = "j F"  # 1 december
SHORT_DATE_FORMAT = "j b Y"  # 1 dec 2026
SHORT_DATETIME_FORMAT = "j b H.i"  # 24 nov 08.23
FIRST_DAY_OF_WEEK = 1
