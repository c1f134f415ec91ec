import { describeEpisodeStoreContract, describePodcastStoreContract } from '../contract/podcastStores';
import { MemoryEpisodes, MemoryPodcasts } from '../support/memory';

describePodcastStoreContract('in-memory fake', async () => new MemoryPodcasts());
describeEpisodeStoreContract('in-memory fake', async () => new MemoryEpisodes());
