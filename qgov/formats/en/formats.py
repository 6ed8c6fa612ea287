"""Display formats for English: ISO 8601 dates and 24-hour times with the zone's abbreviation, read
the same way by every agency (Django's own "en" formats are American: 01/21/2027, 2:05 p.m.).
Times are shown in the active agency's time zone (qgov.middleware). Input formats are Django's."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "Y-m"
MONTH_DAY_FORMAT = "m-d"
FIRST_DAY_OF_WEEK = 1  # Monday (ISO 8601)
