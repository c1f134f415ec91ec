import { describeBatchStoreContract } from '../contract/batchStore';
import { describeBatchControlsContract } from '../contract/controls';
import { memoryControls, memoryStore } from '../support/memory';

describeBatchStoreContract('in-memory fake', async () => memoryStore().store);
describeBatchControlsContract('in-memory fake', async () => memoryControls({ allowed: true }));
