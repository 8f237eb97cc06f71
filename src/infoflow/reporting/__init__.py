"""Records, plots and the HTML report of a run, drawn from its folder alone."""

from infoflow.reporting.html_report import write_report
from infoflow.reporting.plots import information_plane_figure
from infoflow.reporting.records import RunRecords, as_records, load_records

__all__ = ["RunRecords", "as_records", "information_plane_figure", "load_records", "write_report"]
