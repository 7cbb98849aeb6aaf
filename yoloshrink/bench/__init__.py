"""The benchmark: each exported model timed through its own runtime and scored through ultralytics.

- :mod:`~yoloshrink.bench.timing`: pinning, warm-up, sessions of interleaved rounds;
- :mod:`~yoloshrink.bench.stats`: percentiles and bootstrap intervals of timed rounds;
- :mod:`~yoloshrink.bench.runners`: one loader per runtime, the model a target reads, its input;
- :mod:`~yoloshrink.bench.latency`: network-only and end-to-end latency of one target;
- :mod:`~yoloshrink.bench.paired`: a variant's speed-up over the baseline, timed side by side;
- :mod:`~yoloshrink.bench.accuracy`: mAP of one target through ultralytics' validator;
- :mod:`~yoloshrink.bench.roofline`: the measured reference roofs and the theoretical peak;
- :mod:`~yoloshrink.bench.crosscheck`: ultralytics' own ``benchmark()``, side by side.
"""
