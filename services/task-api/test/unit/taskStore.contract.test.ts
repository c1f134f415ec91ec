import { describeTaskStoreContract } from '../contract/taskStore';
import { MemoryTaskStore } from '../support/memory';

describeTaskStoreContract('in-memory fake', async () => new MemoryTaskStore());
