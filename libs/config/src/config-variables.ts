import { loadConfig } from './app-config';
import { ConfigVariable, EnvReader } from './env-reader';

export type { ConfigVariable } from './env-reader';

/**
 * Every environment variable the apps read, with its default — recorded by reading the configuration
 * itself, so deployment files (compose, Kubernetes) are checked against the schema and cannot drift.
 */
export function configVariables(): ConfigVariable[] {
  const reader = new EnvReader({});
  loadConfig({}, reader);
  return [...reader.read.values()];
}
