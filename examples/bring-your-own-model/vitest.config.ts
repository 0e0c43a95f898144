import { kdVitestConfig } from '../../vitest.shared';

export default kdVitestConfig('@kd-example/bring-your-own-model');
