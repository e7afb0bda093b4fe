import { describeDeepCacheSplit } from '../../../test/support/onnx/deepcache-split-suite.js';

describeDeepCacheSplit('deepcache-sd15-tiny', 12);
