import { describeDeepCacheSplit } from './testing/deepcache-split-suite.js';

describeDeepCacheSplit('deepcache-sdxl-tiny', 9);
