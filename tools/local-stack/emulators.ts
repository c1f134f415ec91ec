import type { AddressInfo } from 'node:net';
import type { Endpoints } from './provision';

export interface Emulators {
  endpoints: Endpoints;
  stop(): Promise<void>;
}

/**
 * Starts the npm-installed emulators in this process, on loopback only: fauxqs for SQS and SNS,
 * dynalite for DynamoDB. Port 0 picks a free port.
 */
export async function startEmulators(ports: { sqs: number; dynamodb: number }): Promise<Emulators> {
  // fauxqs is ESM-only; its startFauxqs() binds every interface, so build the app and bind it here.
  const { buildApp } = await import('fauxqs');
  const fauxqs = buildApp({ logger: false });
  await fauxqs.listen({ port: ports.sqs, host: '127.0.0.1' });
  const sqsPort = (fauxqs.server.address() as AddressInfo).port;

  const dynalite = await startDynalite(ports.dynamodb);

  return {
    endpoints: {
      sqs: `http://127.0.0.1:${sqsPort}`,
      sns: `http://127.0.0.1:${sqsPort}`,
      dynamodb: dynalite.endpoint,
    },
    async stop() {
      await fauxqs.close();
      await dynalite.stop();
    },
  };
}

/** dynalite alone (the DynamoDB half of the emulators), on loopback; port 0 picks a free port. */
export async function startDynalite(port: number): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dynalite = (await import('dynalite')).default({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    dynalite.once('error', reject);
    dynalite.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(dynalite.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => dynalite.close(() => resolve())),
  };
}
