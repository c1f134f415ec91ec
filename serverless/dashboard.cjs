'use strict';
/* global require, module, __dirname */

/**
 * The body of the stage's CloudWatch dashboard (`offload-<stage>`, a resource of the alarms service), built when
 * a service is packaged: `DashboardBody: ${file(../../serverless/dashboard.cjs)}`. It reads every
 * services/<name>/serverless.yml, whose resource names are deterministic, so the dashboard needs
 * nothing from the other stacks and can be deployed before them. Per service: queue depth, oldest
 * message age, DLQ depth, Lambda errors and duration (p99, max), the SQS stack's record metrics
 * for each worker and the run metrics of each scheduled function (namespace `Offload`).
 *
 * Queues are the `custom.names` entries named `queue`/`…Queue`, DLQs those named `dlq`/`…Dlq`;
 * the template tests fail when a queue or function of any service is missing from the body.
 */
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const path = require('node:path');
const yaml = require('js-yaml');

const SERVICES_DIR = path.join(__dirname, '..', 'services');
const RECORD_COUNTS = ['RecordsProcessed', 'RecordsFailed', 'RecordsRetried', 'RecordsDeadLettered'];

// CloudFormation short forms (!GetAtt, !Sub, …) load as plain objects; only names are read here.
const schema = yaml.DEFAULT_SCHEMA.extend(
  [
    'Ref',
    'GetAtt',
    'Sub',
    'Join',
    'If',
    'Not',
    'Equals',
    'And',
    'Or',
    'Condition',
    'Select',
    'Split',
  ].flatMap((tag) =>
    ['scalar', 'sequence', 'mapping'].map(
      (kind) => new yaml.Type(`!${tag}`, { kind, construct: (data) => ({ [tag]: data }) }),
    ),
  ),
);

/** A service's queue, DLQ and function names for `stage`, as its serverless.yml declares them. */
function readService(dir, stage) {
  const config = yaml.load(readFileSync(path.join(dir, 'serverless.yml'), 'utf8'), { schema });
  const service = config.service;
  const resolve = (value) => {
    const name = String(value).replaceAll('${self:service}', service).replaceAll('${sls:stage}', stage);
    if (name.includes('${')) throw new Error(`${service}: cannot resolve the name ${value} at package time`);
    return name;
  };
  const names = Object.entries((config.custom && config.custom.names) || {});
  const named = (pattern) => names.filter(([key]) => pattern.test(key)).map(([, value]) => resolve(value));
  // Queue consumers get their sqs events from the declarations (plugins/declared-resources.cjs).
  const consumers = Object.values((config.custom && config.custom.queues) || {})
    .flatMap((queue) => [].concat(queue.consumer || []))
    .map((consumer) => (typeof consumer === 'string' ? consumer : consumer.function));
  const functions = Object.entries(config.functions || {}).map(([key, fn]) => ({
    key,
    name: fn.name ? resolve(fn.name) : `${service}-${stage}-${key}`,
    triggers: [
      ...(fn.events || []).map((event) => Object.keys(event)[0]),
      ...(consumers.includes(key) ? ['sqs'] : []),
    ],
  }));
  return { service, queues: named(/^queue$|Queue$/), dlqs: named(/^dlq$|Dlq$/), functions };
}

const graph = (title, metrics, extra = {}) => ({
  type: 'metric',
  width: 8,
  height: 6,
  properties: { title, metrics, region: '${AWS::Region}', view: 'timeSeries', period: 60, ...extra },
});

const sqs = (metric, queues) =>
  queues.map((queue) => ['AWS/SQS', metric, 'QueueName', queue, { stat: 'Maximum', label: queue }]);

/** The widgets of one service, its title first. */
function serviceWidgets({ service, queues, dlqs, functions }) {
  const lambda = (metric, stat, fn) => [
    'AWS/Lambda',
    metric,
    'FunctionName',
    fn.name,
    { stat, label: `${fn.key} ${stat}` },
  ];
  const custom = (metric, stat, fn) => [
    'Offload',
    metric,
    'service',
    service,
    'function_name',
    fn.name,
    { stat, label: `${metric} ${stat}` },
  ];
  const workers = functions.filter((fn) => fn.triggers.includes('sqs'));
  const schedules = functions.filter((fn) => fn.triggers.includes('schedule'));
  return [
    { type: 'text', width: 24, height: 1, properties: { markdown: `## ${service}` } },
    ...(queues.length > 0
      ? [
          graph('Queue depth (visible messages)', sqs('ApproximateNumberOfMessagesVisible', queues)),
          graph('Oldest message age (s)', sqs('ApproximateAgeOfOldestMessage', queues)),
        ]
      : []),
    ...(dlqs.length > 0 ? [graph('DLQ depth', sqs('ApproximateNumberOfMessagesVisible', dlqs))] : []),
    graph(
      'Lambda errors',
      functions.map((fn) => lambda('Errors', 'Sum', fn)),
    ),
    graph(
      'Lambda duration p99 / max (ms)',
      functions.flatMap((fn) => [lambda('Duration', 'p99', fn), lambda('Duration', 'Maximum', fn)]),
    ),
    ...workers.flatMap((fn) => [
      graph(
        `${fn.key}: records per minute`,
        RECORD_COUNTS.map((metric) => custom(metric, 'Sum', fn)),
      ),
      graph(`${fn.key}: record duration (ms)`, [
        custom('RecordDuration', 'p99', fn),
        custom('RecordDuration', 'Maximum', fn),
      ]),
    ]),
    // A scheduled function records its run's counts; SEARCH shows whichever it records.
    ...schedules.map((fn) =>
      graph(`${fn.key}: run metrics`, [
        [
          {
            id: `run_${fn.key}`,
            expression: `SEARCH('{Offload,function_name,service} function_name="${fn.name}"', 'Sum', 60)`,
          },
        ],
      ]),
    ),
  ];
}

/** Places widgets left to right, three to a row, each service's title on a row of its own. */
function layout(widgets) {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return widgets.map((widget) => {
    if (x + widget.width > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const placed = { ...widget, x, y };
    x += widget.width;
    rowHeight = Math.max(rowHeight, widget.height);
    if (widget.type === 'text') x = 24; // the next widget starts a new row
    return placed;
  });
}

module.exports = async ({ resolveVariable }) => {
  const stage = await resolveVariable('sls:stage');
  const services = readdirSync(SERVICES_DIR)
    .sort()
    .map((name) => path.join(SERVICES_DIR, name))
    .filter((dir) => existsSync(path.join(dir, 'serverless.yml')))
    .map((dir) => readService(dir, stage))
    // The alarm stack (this dashboard's own) has nothing to show.
    .filter((service) => service.functions.length > 0 || service.queues.length > 0);
  const body = { start: '-PT6H', widgets: layout(services.flatMap(serviceWidgets)) };
  // Fn::Sub fills in ${AWS::Region}; the body has no other ${…}.
  return { 'Fn::Sub': JSON.stringify(body) };
};
