/** Stops the stack globalSetup started; its own SIGTERM handler stops the services and emulators. */
export default async function globalTeardown(): Promise<void> {
  const child = globalThis.__OFFLOAD_STACK__;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
