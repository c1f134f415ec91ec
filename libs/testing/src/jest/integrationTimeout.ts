// Integration tests wait on real queues: retries after a visibility timeout take seconds.
jest.setTimeout(120_000);
