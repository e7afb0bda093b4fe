import { describeDeepCacheSplit } from './testing/deepcache-split-suite.js';

describeDeepCacheSplit('deepcache-sd15-tiny', 12);
