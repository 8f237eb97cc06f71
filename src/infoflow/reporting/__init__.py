"""Records, plots and the HTML report of a run, drawn from its folder alone."""

from infoflow.reporting.html_report import write_report
from infoflow.reporting.records import RunRecords, load_records

__all__ = ["RunRecords", "load_records", "write_report"]
