import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { discoverServices, ROOT } from '../local-stack/services';
import {
  allowListEntryFor,
  dashboardCoverage,
  policyStatements,
  render,
  RULES,
  WILDCARD_ALLOW_LIST,
  type Template,
} from './rules';
import { readPackagedTemplate, type PackagedService } from './templates';

// Reads what `npm run package` wrote; never packages itself (npm test packages first).
const services = discoverServices();
const FOUNDATION = 'alarms';
/** Stages that get deployed: names must fit for the longest of them, whichever stage was packaged. */
const DEPLOYED_STAGES = ['dev', 'prod'];

function load(name: string): PackagedService {
  const service = services.find((candidate) => candidate.name === name)!;
  return readPackagedTemplate(service);
}

describe.each(services.map((service) => service.name))('%s template', (name) => {
  it('has been packaged from the current serverless.yml', () => {
    expect(() => load(name)).not.toThrow();
  });

  it.each(RULES.map((rule) => [rule.name, rule] as const))('%s', (_ruleName, rule) => {
    const { template, region, stage } = load(name);
    const nameSlack = Math.max(0, ...DEPLOYED_STAGES.map((deployed) => deployed.length - stage.length));
    expect(rule.check(template, { region, nameSlack, stage })).toEqual([]);
  });
});

describe('the wildcard allow-list', () => {
  it.each(WILDCARD_ALLOW_LIST.map((entry) => [entry.id, entry] as const))(
    '%s is still needed by some template (no stale entries)',
    (_id, entry) => {
      const used = services.some((service) => {
        const { template } = readPackagedTemplate(service);
        return policyStatements(template).some(
          ({ statement }) => allowListEntryFor(statement, template as Template) === entry,
        );
      });
      expect(used).toBe(true);
    },
  );
});

describe(`the stage dashboard (a ${FOUNDATION} resource)`, () => {
  it('is named offload-<stage> and its body is a dashboard', () => {
    const { template, stage } = load(FOUNDATION);
    const dashboards = Object.values(template.Resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.Properties?.DashboardName).toBe(`offload-${stage}`);
    const body = JSON.parse(render(dashboards[0]?.Properties?.DashboardBody)) as { widgets: unknown[] };
    expect(body.widgets.length).toBeGreaterThan(0);
  });

  it('shows the record metrics of every queue consumer', () => {
    const dashboard = Object.values(load(FOUNDATION).template.Resources).find(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    );
    const body = render(dashboard?.Properties?.DashboardBody);
    const consumers = services.flatMap((service) => {
      const { Resources } = load(service.name).template;
      return Object.values(Resources)
        .filter((resource) => resource.Type === 'AWS::Lambda::EventSourceMapping')
        .map((mapping) => {
          const fnId = (mapping.Properties?.FunctionName as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
          return String(Resources[fnId]?.Properties?.FunctionName);
        });
    });
    // processTasks, processJobs, processPriorityJobs, recordResults, generatePodcasts, processEpisodes, notify.
    expect(consumers.length).toBeGreaterThanOrEqual(7);
    for (const name of consumers)
      expect(body).toMatch(new RegExp(`"RecordsProcessed","service","[^"]+","function_name","${name}"`));
  });

  it('shows every queue, DLQ and function of every service', () => {
    const templates = services.map((service) => load(service.name).template);
    expect(dashboardCoverage(load(FOUNDATION).template, templates)).toEqual([]);
  });
});

describe('the serverless.yml files', () => {
  it.each(services.map((service) => [service.name, service.dir] as const))(
    '%s writes no CloudWatch alarm by hand (custom.queues and custom.alarms declare them)',
    (_name, dir) => {
      expect(readFileSync(path.join(dir, 'serverless.yml'), 'utf8')).not.toContain('AWS::CloudWatch::Alarm');
    },
  );
});

describe('serverless-compose.yml', () => {
  const compose = yaml.load(readFileSync(path.join(ROOT, 'serverless-compose.yml'), 'utf8')) as {
    services: Record<string, { path: string; params?: Record<string, unknown> }>;
  };

  it('composes every service under services/ by its folder name', () => {
    expect(Object.keys(compose.services).sort()).toEqual(services.map((service) => service.name).sort());
    for (const [name, service] of Object.entries(compose.services))
      expect(service.path).toBe(`services/${name}`);
  });

  it(`passes ${FOUNDATION}'s alarm topic to every other service`, () => {
    expect(load(FOUNDATION).template.Outputs).toHaveProperty('AlarmTopicArn');
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === FOUNDATION) continue;
      expect({ name, alarmTopicArn: service.params?.alarmTopicArn }).toEqual({
        name,
        alarmTopicArn: `\${${FOUNDATION}.AlarmTopicArn}`,
      });
    }
  });
});

describe('podcast-workers template', () => {
  type Resource = { Type: string; Properties?: Record<string, unknown> };
  const resources = () => load('podcast-workers').template.Resources as Record<string, Resource>;
  const logicalIdOf = (value: unknown) =>
    (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt']?.[0] ?? '(not a GetAtt)';

  it('redrives after 5 receives every queue whose consumer has reserved concurrency', () => {
    const all = resources();
    const mappings = Object.values(all).filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    for (const mapping of mappings) {
      const fn = all[logicalIdOf(mapping.Properties?.FunctionName)]!;
      const queue = all[logicalIdOf(mapping.Properties?.EventSourceArn)]!;
      expect(fn.Properties?.ReservedConcurrentExecutions).toBeGreaterThan(0);
      expect(queue.Properties?.RedrivePolicy).toMatchObject({ maxReceiveCount: 5 });
      // The worker decides its last attempt from the same number.
      expect((fn.Properties?.Environment as { Variables: Record<string, string> }).Variables).toMatchObject({
        MAX_RECEIVE_COUNT: '5',
      });
    }
  });

  it('alarms on unreadable records per publisher and on stale episodes failed, to the alarm topic', () => {
    const alarms = Object.values(resources()).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const onMetric = (metric: string) =>
      alarms
        .filter((a) => a.Properties?.Namespace === 'Offload' && a.Properties.MetricName === metric)
        .map((a) => {
          const dimensions = a.Properties?.Dimensions as { Name: string; Value: unknown }[];
          expect(a.Properties?.AlarmActions).toEqual({
            'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }],
          });
          return (dimensions.find((d) => d.Name === 'function_name')?.Value as { Ref: string }).Ref;
        })
        .sort();
    expect(onMetric('UnreadableRecords')).toEqual([
      'EpisodeCheckerLambdaFunction',
      'PodcastSchedulerLambdaFunction',
    ]);
    expect(onMetric('StaleEpisodesFailed')).toEqual(['EpisodeCheckerLambdaFunction']);
  });
});
