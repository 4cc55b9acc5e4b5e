import { ConfigError } from './config-error';

/**
 * Runs an app's start-up; a configuration error stops the process with one line naming the
 * variable, and any other start-up failure with one line saying what failed — no stack trace.
 */
export function runMain(appName: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    if (error instanceof ConfigError) {
      console.error(`smsfleet ${appName}: invalid configuration: ${error.message}`);
    } else {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`smsfleet ${appName}: could not start: ${message}`);
    }
    process.exit(1);
  });
}
