// Unit tests exercise the real logger; keep its JSON lines out of test output unless asked for.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
