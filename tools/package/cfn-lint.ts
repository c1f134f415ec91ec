import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { discoverServices, ROOT } from '../local-stack/services';
import { TEMPLATE_FILE } from './packager';

// AWS's CloudFormation linter on every packaged template, for each deployed stage in turn (it
// packages each stage, so the last stage named is what stays in services/*/.serverless/):
//   npm run lint:templates                 stages prod, then dev
//   npm run lint:templates -- dev
// cfn-lint is a Python tool, not on npm: where it is missing this says so in one line and passes,
// and the template rules of `npm run test:unit` still run.
const stages = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['prod', 'dev'];

const probe = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
if (probe.error) {
  console.log('cfn-lint is not installed: packaged templates not linted (pip install cfn-lint to lint them)');
  process.exit(0);
}

const templates = discoverServices().map((service) =>
  path.relative(ROOT, path.join(service.dir, '.serverless', TEMPLATE_FILE)),
);
let failed = false;
for (const stage of stages) {
  execFileSync('npm', ['run', '-s', 'package', '--', '--stage', stage], { cwd: ROOT, stdio: 'inherit' });
  const lint = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...templates], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const lines = lint.stdout.split('\n').filter(Boolean);
  const errors = lines.filter((line) => /:E\d+:/.test(line));
  const warnings = lines.length - errors.length;
  // Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything else is a crash.
  const crashed = lint.status === null || (lint.status & 1) === 1 || lint.status > 15;
  console.log(
    `cfn-lint ${probe.stdout.trim().replace(/^cfn-lint /, '')}, stage ${stage}: ${templates.length} templates, ` +
      `${errors.length} errors, ${warnings} warnings`,
  );
  for (const line of errors) console.log(`  ${line}`);
  if (crashed) console.error(lint.stderr);
  failed ||= errors.length > 0 || crashed;
}
process.exit(failed ? 1 : 0);
