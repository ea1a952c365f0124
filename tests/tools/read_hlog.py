"""Reads an HdrHistogram interval log with HdrHistogram's own Python reader
and prints what it holds as JSON: intervals, count, p50, p99, max."""
import json
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

total = HdrHistogram(1, 600_000_000, 3)
reader = HistogramLogReader(sys.argv[1], total)
intervals = 0
while reader.add_next_interval_histogram() is not None:
    intervals += 1
print(json.dumps({
    "intervals": intervals,
    "count": total.get_total_count(),
    "p50": total.get_value_at_percentile(50),
    "p99": total.get_value_at_percentile(99),
    "max": total.get_max_value(),
}))
