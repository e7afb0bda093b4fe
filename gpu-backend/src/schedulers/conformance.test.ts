import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SchedulerName } from '../../../shared/scheduler.js';
import { parseSchedulerConfigText } from './config.js';
import { schedulers } from './registry.js';
import { describeSchedulerConformance } from '../../../test/support/schedulers/conformance.js';
import { fixtureDir } from '../../../test/support/fixtures.js';

// The SD 1.5 model's own scheduler config (a PNDMScheduler config), as every scheduler is built in production.
const sd15Config = parseSchedulerConfigText(
  readFileSync(path.join(fixtureDir('deepcache-sd15-tiny'), 'scheduler/scheduler_config.json'), 'utf8'),
) as Record<string, unknown>;

for (const name of SchedulerName.options) {
  describeSchedulerConformance(name, { factory: schedulers[name], config: sd15Config });
}
describeSchedulerConformance('ddim (eta 0.7)', { factory: (json) => schedulers.ddim(json, { eta: 0.7 }), config: sd15Config });
