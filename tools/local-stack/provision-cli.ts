import { parseArgs } from 'node:util';
import { localArnEnvironment, provision } from './provision';
import { discoverRunnableServices, printService } from './services';

// Provisions every service's resources (or --service ones) on an existing endpoint, e.g. LocalStack:
//   npm run provision -- --endpoint http://localhost:4566 --stage local
// AWS_ENDPOINT_URL_SQS / _SNS / _DYNAMODB, where set, take precedence per service (the embedded
// emulators serve SQS/SNS and DynamoDB on two ports).
const { values } = parseArgs({
  options: {
    stage: { type: 'string', default: 'local' },
    endpoint: { type: 'string', default: 'http://localhost:4566' },
    region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
    service: { type: 'string', multiple: true },
  },
});

async function main() {
  const services = await Promise.all(
    discoverRunnableServices(values.service).map((service) => printService(service, values.stage!)),
  );
  const endpoint = values.endpoint!;
  const summary = await provision({
    services,
    endpoints: {
      sqs: process.env.AWS_ENDPOINT_URL_SQS ?? endpoint,
      sns: process.env.AWS_ENDPOINT_URL_SNS ?? endpoint,
      dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB ?? endpoint,
    },
    region: values.region!,
    log: (line) => console.log(line),
  });
  console.log(JSON.stringify(summary, null, 2));
  // What `serverless offline` run by hand in a service folder needs (README: one service by hand).
  console.log('\n# Environment for functions run against these resources:');
  for (const [name, value] of Object.entries(localArnEnvironment(summary)))
    console.log(`export ${name}=${value}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
