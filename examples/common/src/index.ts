export { backendChoices, selectBackend, type BackendChoice, type SelectBackendOptions, type SelectedBackend } from './backend';
