import { serviceTables } from '@offload/testing/storeContract';
import { dynamoEpisodeStore } from '../../src/adapters/dynamoEpisodeStore';
import { dynamoPodcastStore } from '../../src/adapters/dynamoPodcastStore';
import { describeEpisodeStoreContract, describePodcastStoreContract } from '../contract/podcastStores';

const tables = serviceTables('podcast-workers');

describePodcastStoreContract('DynamoDB adapter on dynalite', async () =>
  dynamoPodcastStore(await tables.fresh('PodcastsTable')),
);
describeEpisodeStoreContract('DynamoDB adapter on dynalite', async () =>
  dynamoEpisodeStore(await tables.fresh('EpisodesTable')),
);
