"""A summary's statistics as a unit types them into the web form (field names as the form posts them)."""

from __future__ import annotations

SUMMARY_STATS: dict[str, str] = {
    "statistics.total_sessions": "12",
    "statistics.lecture_sessions": "3",
    "statistics.training_sessions": "2",
    "statistics.total_participants": "3000",
    "statistics.online_participants": "200",
    "statistics.filled_by": "李老师",
    "statistics.phone": "13912345678",
    "summary_materials.summary_url": "https://example.org/s.docx",
}
