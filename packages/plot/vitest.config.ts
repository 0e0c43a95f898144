import { kdVitestConfig } from '../../vitest.shared';

export default kdVitestConfig('@kd/plot');
