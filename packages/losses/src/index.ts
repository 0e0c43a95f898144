export { configureValidation, getValidationConfig, type ValidationConfig } from './validate';
