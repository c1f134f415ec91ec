/** Stops the stack globalSetup started; its own SIGTERM handler stops the services and emulators. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__OFFLOAD_STACK__?.stop();
}
