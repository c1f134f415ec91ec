import type { Connection, ConnectionStore } from '../../src/domain/live';

const connection = (id: string, owner = 'alice'): Connection => ({
  connection_id: id,
  owner,
  expires_at: 1_796_000_000,
});
const JOB_KEY = 'job#00000000-0000-4000-8000-000000000001';
const BATCH_KEY = 'batch_job#00000000-0000-4000-8000-000000000002';

const byId = (connections: Connection[]) =>
  [...connections].sort((a, b) => a.connection_id.localeCompare(b.connection_id));

/** What every ConnectionStore does; `makeStore` answers a store holding no connections. */
export function describeConnectionStoreContract(name: string, makeStore: () => Promise<ConnectionStore>) {
  describe(`ConnectionStore contract: ${name}`, () => {
    let store: ConnectionStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('keeps a connection until it is removed', async () => {
      await store.put(connection('c1'));
      expect(await store.get('c1')).toEqual(connection('c1'));
      expect(await store.get('c2')).toBeUndefined();
      await store.remove('c1');
      expect(await store.get('c1')).toBeUndefined();
      await store.remove('never-connected');
    });

    it('hands out copies, never the records it keeps', async () => {
      const kept = connection('c1');
      await store.put(kept);
      await store.subscribe(JOB_KEY, kept);
      kept.owner = 'changed after put';
      (await store.get('c1'))!.owner = 'changed after get';
      (await store.subscribers(JOB_KEY))[0]!.owner = 'changed after listing';
      expect(await store.get('c1')).toEqual(connection('c1'));
      expect(await store.subscribers(JOB_KEY)).toEqual([connection('c1')]);
    });

    it('lists the subscribers of a key, once each, until they unsubscribe', async () => {
      for (const id of ['c1', 'c2', 'c3']) await store.put(connection(id));
      await store.subscribe(JOB_KEY, connection('c2'));
      await store.subscribe(JOB_KEY, connection('c1'));
      await store.subscribe(JOB_KEY, connection('c1'));
      await store.subscribe(BATCH_KEY, connection('c3', 'bob'));
      expect(byId(await store.subscribers(JOB_KEY))).toEqual([connection('c1'), connection('c2')]);
      await store.unsubscribe(JOB_KEY, 'c2');
      await store.unsubscribe(JOB_KEY, 'never-subscribed');
      expect(await store.subscribers(JOB_KEY)).toEqual([connection('c1')]);
      expect(await store.subscribers(BATCH_KEY)).toEqual([connection('c3', 'bob')]);
      expect(await store.subscribers('job#nobody')).toEqual([]);
    });

    it('drops every subscription of a removed connection, and no one else’s', async () => {
      for (const id of ['c1', 'c2']) await store.put(connection(id));
      await store.subscribe(JOB_KEY, connection('c1'));
      await store.subscribe(BATCH_KEY, connection('c1'));
      await store.subscribe(JOB_KEY, connection('c2'));
      await store.remove('c1');
      expect(await store.subscribers(JOB_KEY)).toEqual([connection('c2')]);
      expect(await store.subscribers(BATCH_KEY)).toEqual([]);
      expect(await store.get('c2')).toEqual(connection('c2'));
    });
  });
}
