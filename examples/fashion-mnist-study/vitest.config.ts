import { kdVitestConfig } from '../../vitest.shared';

export default kdVitestConfig('@kd-example/fashion-mnist-study');
