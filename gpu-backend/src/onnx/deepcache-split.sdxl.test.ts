import { describeDeepCacheSplit } from '../../../test/support/onnx/deepcache-split-suite.js';

describeDeepCacheSplit('deepcache-sdxl-tiny', 9);
