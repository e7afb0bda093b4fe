import { describeDeepCacheSplit } from '../../../test/support/onnx/deepcache-split-suite.js';

describeDeepCacheSplit('deepcache-sd21v-tiny', 12);
