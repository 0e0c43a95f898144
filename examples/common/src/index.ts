export {
  backendChoices,
  selectBackend,
  type BackendChoice,
  type SelectBackendOptions,
  type SelectedBackend,
} from './backend';
export { mean, pairedDifference, sampleStd, tCritical95, type PairedDifference } from './stats';
export { readJson, writeJsonAtomic } from './json-file';
export { INVOCATIONS_FILE, recordInvocation, type Invocation } from './invocations';
