// Unit tests exercise the real logger; keep its JSON lines out of test output unless asked for.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// Likewise the metrics' EMF lines (tests that check metrics capture them before they would print).
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
