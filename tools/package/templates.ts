import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ROOT, type ServiceDir } from '../local-stack/services';
import { TEMPLATE_FILE } from './packager';
import type { Template } from './rules';

export interface PackagedService {
  service: ServiceDir;
  template: Template;
  region: string;
  stage: string;
}

/**
 * The template `npm run package` wrote for a service. Throws (never packages: that is the
 * package step's job) when it is missing or older than the configuration it was built from.
 */
export function readPackagedTemplate(service: ServiceDir): PackagedService {
  const outDir = path.join(service.dir, '.serverless');
  const templatePath = path.join(outDir, TEMPLATE_FILE);
  const relative = path.relative(ROOT, templatePath);
  if (!existsSync(templatePath)) {
    throw new Error(`${relative} is missing: run npm run package first`);
  }
  const built = statSync(templatePath).mtimeMs;
  for (const source of [
    path.join(service.dir, 'serverless.yml'),
    path.join(ROOT, 'serverless', 'base.yml'),
  ]) {
    if (statSync(source).mtimeMs > built) {
      throw new Error(`${relative} is older than ${path.relative(ROOT, source)}: run npm run package first`);
    }
  }
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as Template;
  const state = JSON.parse(readFileSync(path.join(outDir, 'serverless-state.json'), 'utf8')) as {
    service: { provider: { region: string; stage: string } };
  };
  return { service, template, region: state.service.provider.region, stage: state.service.provider.stage };
}
