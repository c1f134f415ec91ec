import { describeConnectionStoreContract } from '../contract/connections';
import { MemoryConnections } from '../support/memory';

describeConnectionStoreContract('in-memory fake', async () => new MemoryConnections());
