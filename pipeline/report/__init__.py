"""The report stage: a self-contained HTML page, summary.json and CSVs for a scored export."""

from pipeline.report.render import ReportPaths, build_report
from pipeline.report.summary import ReportOptions

__all__ = ["ReportOptions", "ReportPaths", "build_report"]
