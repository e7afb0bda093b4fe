import { describeDeepCacheSplit } from './testing/deepcache-split-suite.js';

describeDeepCacheSplit('deepcache-sd21v-tiny', 12);
