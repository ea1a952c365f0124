"""Reads an HdrHistogram interval log with HdrHistogram's own Python reader
and prints what it holds as JSON: intervals, count, p50, p99, max.

The percentiles are taken at rank ceil(q * count), the rule of the Rust
HdrHistogram the harness reports with; HdrHistogram's Python
get_value_at_percentile rounds the rank to nearest instead, which picks the
neighbouring request whenever q * count has a fraction below one half."""
import json
import math
import sys

from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

total = HdrHistogram(1, 600_000_000, 3)
reader = HistogramLogReader(sys.argv[1], total)
intervals = 0
while reader.add_next_interval_histogram() is not None:
    intervals += 1


def value_at_quantile(h, q):
    rank = max(math.ceil(q * h.get_total_count()), 1)
    seen = 0
    for index in range(h.counts_len):
        seen += h.get_count_at_index(index)
        if seen >= rank:
            return h.get_highest_equivalent_value(h.get_value_from_index(index))
    return 0


print(json.dumps({
    "intervals": intervals,
    "count": total.get_total_count(),
    "p50": value_at_quantile(total, 0.50),
    "p99": value_at_quantile(total, 0.99),
    "max": total.get_max_value(),
}))
