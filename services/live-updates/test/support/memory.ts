import type { Connection, ConnectionStore } from '../../src/domain/live';

/** In-memory ConnectionStore for unit tests: what it hands out are copies, as a table read is. */
export class MemoryConnections implements ConnectionStore {
  readonly connections = new Map<string, Connection>();
  readonly subs = new Map<string, Map<string, Connection>>();
  async put(c: Connection) {
    this.connections.set(c.connection_id, { ...c });
  }
  async get(id: string) {
    const connection = this.connections.get(id);
    return connection && { ...connection };
  }
  async remove(id: string) {
    this.connections.delete(id);
    for (const subs of this.subs.values()) subs.delete(id);
  }
  async subscribe(key: string, c: Connection) {
    if (!this.subs.has(key)) this.subs.set(key, new Map());
    this.subs.get(key)!.set(c.connection_id, { ...c });
  }
  async unsubscribe(key: string, id: string) {
    this.subs.get(key)?.delete(id);
  }
  async subscribers(key: string) {
    return [...(this.subs.get(key)?.values() ?? [])].map((c) => ({ ...c }));
  }
}
