import { describeControlsContract } from '../contract/controls';
import { describeJobStoreContract } from '../contract/jobStore';
import { MemoryControls, MemoryJobStore } from '../support/memory';

describeJobStoreContract('in-memory fake', async () => new MemoryJobStore());
describeControlsContract('in-memory fake', async () => new MemoryControls());
